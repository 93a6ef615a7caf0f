import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

@Suite struct ApplicationsAndPermissionsTests {
    @Test func applicationsKeepRoleIdsGetNewAppIdsAndRefuseForeignIdentifierURIs() async throws {
        let fake = try FakeGraph()
        let roleID = "8c2e1d0f-7a4b-4c3d-9e8f-1a2b3c4d5e6f"
        let body: JSONValue = [
            "displayName": "Expenses API",
            "appRoles": [
                [
                    "id": .string(roleID), "value": "Expenses.Read", "displayName": "Read",
                    "description": "Read", "allowedMemberTypes": ["User"], "isEnabled": true,
                ]
            ],
        ]
        let app = try await fake.graph.send(GraphRequest("POST", "/applications", body: body)).object
        #expect(app["appRoles"]?.arrayValue?.first?["id"]?.stringValue == roleID)
        let appId = try #require(app["appId"]?.stringValue)
        let foreign = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "POST", "/applications",
                    body: ["displayName": "Copy", "identifierUris": ["api://6b8b1c2d-0000-4000-8000-000000000001"]]))
        }
        #expect(foreign?.code == "HostNameNotOnVerifiedDomain")
        _ = try await fake.graph.send(
            GraphRequest("PATCH", "/applications/\(app["id"]!.stringValue!)", body: ["identifierUris": [.string("api://\(appId)")]]))

        let sp = try await fake.graph.send(GraphRequest("POST", "/servicePrincipals", body: ["appId": .string(appId)])).object
        #expect(sp["appRoles"]?.arrayValue?.count == 1)
        let twice = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/servicePrincipals", body: ["appId": .string(appId)]))
        }
        #expect(twice?.status == 409)
        let upsert = try await fake.graph.send(
            GraphRequest("PATCH", "/servicePrincipals(appId='\(appId)')", headers: ["Prefer": "create-if-missing"], body: ["notes": "x"]))
        #expect(upsert.status == 204)
        let graphSP = try await fake.graph.get("/servicePrincipals(appId='00000003-0000-0000-c000-000000000000')")
        #expect(graphSP["displayName"]?.stringValue == "Microsoft Graph")

        let user = try await fake.createUser("ada")
        let assignment = try await fake.graph.send(
            GraphRequest(
                "POST", "/servicePrincipals/\(sp["id"]!.stringValue!)/appRoleAssignedTo",
                body: [
                    "principalId": .string(user), "resourceId": sp["id"]!, "appRoleId": .string(roleID),
                ])
        ).object
        #expect(assignment["principalType"]?.stringValue == "User")
        let duplicate = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "POST", "/servicePrincipals/\(sp["id"]!.stringValue!)/appRoleAssignedTo",
                    body: [
                        "principalId": .string(user), "resourceId": sp["id"]!, "appRoleId": .string(roleID),
                    ]))
        }
        #expect(duplicate?.isAlreadyExists == true)

        let grant = try await fake.graph.send(
            GraphRequest(
                "POST", "/oauth2PermissionGrants",
                body: [
                    "clientId": sp["id"]!, "consentType": "AllPrincipals", "resourceId": graphSP["id"]!, "scope": "User.Read",
                ]))
        #expect(grant.status == 201)
        let secret = try await fake.graph.send(
            GraphRequest(
                "POST", "/applications/\(app["id"]!.stringValue!)/addPassword", body: ["passwordCredential": ["displayName": "dr"]])
        ).object
        #expect(secret["secretText"]?.stringValue?.isEmpty == false)
        let stored = try await fake.graph.get("/applications/\(app["id"]!.stringValue!)")
        #expect(stored["passwordCredentials"]?.arrayValue?.first?["secretText"] == nil)
    }

    @Test func roleAssignmentsNeedRoleAssignableGroupsAndValidScopes() async throws {
        let fake = try FakeGraph()
        let group = try await fake.createGroup("plain")
        let refused = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "POST", "/roleManagement/directory/roleAssignments",
                    body: [
                        "roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "principalId": .string(group), "directoryScopeId": "/",
                    ]))
        }
        #expect(refused?.message.contains("isAssignableToRole") == true)
        let user = try await fake.createUser("admin")
        let unit = try await fake.graph.send(GraphRequest("POST", "/directory/administrativeUnits", body: ["displayName": "EMEA"])).object[
            "id"]!.stringValue!
        let scoped = try await fake.graph.send(
            GraphRequest(
                "POST", "/roleManagement/directory/roleAssignments",
                body: [
                    "roleDefinitionId": "fe930be7-5e62-47db-91af-98c3a49a38b1", "principalId": .string(user),
                    "directoryScopeId": .string("/administrativeUnits/\(unit)"),
                ]))
        #expect(scoped.status == 201)
        let custom = try await fake.graph.send(
            GraphRequest(
                "POST", "/roleManagement/directory/roleDefinitions",
                body: [
                    "displayName": "App reader", "isEnabled": true,
                    "rolePermissions": [["allowedResourceActions": ["microsoft.directory/applications/standard/read"]]],
                ])
        ).object
        #expect(custom["templateId"] == custom["id"])
        let builtIns = try await fake.graph.list(
            "/roleManagement/directory/roleDefinitions", query: [QueryItem("$filter", "isBuiltIn eq true")])
        #expect(builtIns.contains { $0["id"]?.stringValue == "62e90394-69f5-4237-9190-012177145e10" })
    }

    @Test func conditionalAccessReferencesAreValidated() async throws {
        let fake = try FakeGraph()
        let user = try await fake.createUser("ops")
        let location = try await fake.graph.send(
            GraphRequest(
                "POST", "/identity/conditionalAccess/namedLocations",
                body: [
                    "@odata.type": "#microsoft.graph.ipNamedLocation", "displayName": "HQ", "isTrusted": true,
                    "ipRanges": [["@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"]],
                ])
        ).object["id"]!
        func policy(_ users: [JSONValue], apps: [JSONValue] = ["All"]) -> JSONValue {
            [
                "displayName": "MFA", "state": "enabledForReportingButNotEnforced",
                "conditions": [
                    "users": ["includeUsers": .array(users)], "applications": ["includeApplications": .array(apps)],
                    "locations": ["includeLocations": ["All"], "excludeLocations": [location]],
                ],
                "grantControls": ["operator": "OR", "builtInControls": ["mfa"]],
            ]
        }
        let missing = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest("POST", "/identity/conditionalAccess/policies", body: policy(["0f0f0f0f-0000-4000-8000-000000000000"])))
        }
        #expect(missing?.message.contains("includeUsers") == true)
        let badApp = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "POST", "/identity/conditionalAccess/policies", body: policy(["All"], apps: ["1a1a1a1a-0000-4000-8000-000000000000"])))
        }
        #expect(badApp?.message.contains("includeApplications") == true)
        let created = try await fake.graph.send(
            GraphRequest(
                "POST", "/identity/conditionalAccess/policies",
                body: policy([.string(user)], apps: ["00000003-0000-0000-c000-000000000000"])))
        #expect(created.status == 201)
    }
}

@Suite struct DirectoryLifecycleTests {
    @Test func domainsVerifyOnlyOncePublished() async throws {
        // Simulated time: the default profile publishes DNS records 60 s after the domain is added, and a loaded machine
        // once took longer than that between the add and the early verify (real time made the early verify succeed).
        let clock = VirtualClock()
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", clock: { clock.instant })
        let fake = FakeGraph(
            tenant: tenant,
            graph: GraphClient(
                baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant),
                clock: clock, retry: RetryPolicy(maxTransientAttempts: 1, initialBackoff: 0.001, maxBackoff: 0.001)))
        _ = try await fake.graph.send(GraphRequest("POST", "/domains", body: ["id": "contoso.com"]))
        let records = try await fake.graph.list("/domains/contoso.com/verificationDnsRecords")
        #expect(records.first?["text"]?.stringValue?.hasPrefix("MS=ms") == true)
        let early = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/domains/contoso.com/verify"))
        }
        #expect(early?.message.contains("verification failed") == true)
        try await fake.tenant.publishDNSRecord(for: "contoso.com")
        let verified = try await fake.graph.send(GraphRequest("POST", "/domains/contoso.com/verify")).object
        #expect(verified["isVerified"] == true)
        // A subdomain is verified with its root.
        _ = try await fake.graph.send(GraphRequest("POST", "/domains", body: ["id": "eu.contoso.com"]))
        let sub = try await fake.graph.send(GraphRequest("POST", "/domains/eu.contoso.com/verify")).object
        #expect(sub["isVerified"] == true)
        _ = try await fake.graph.send(GraphRequest("POST", "/users", body: fake.user("lena", domain: "contoso.com")))
    }

    @Test func recycleBinRestoresWithTheOriginalIDWithinThirtyDays() async throws {
        let clock = VirtualClock()
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", clock: { clock.instant })
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock)
        let fake = FakeGraph(tenant: tenant, graph: graph)
        let kept = try await fake.createUser("kept")
        let old = try await fake.createUser("old")
        let security = try await fake.createGroup("security")
        _ = try await graph.send(GraphRequest("DELETE", "/users/\(kept)"))
        _ = try await graph.send(GraphRequest("DELETE", "/groups/\(security)"))
        try await tenant.delete(ids: [old], deletedDaysAgo: 31)

        let deleted = try await graph.list("/directory/deletedItems/microsoft.graph.user")
        #expect(deleted.map { $0["id"]?.stringValue } == [kept])
        #expect(try await graph.list("/directory/deletedItems/microsoft.graph.group").isEmpty)  // security groups are deleted for good
        let restored = try await graph.send(GraphRequest("POST", "/directory/deletedItems/\(kept)/restore")).object
        #expect(restored["id"]?.stringValue == kept)
        #expect(try await graph.get("/users/\(kept)")["deletedDateTime"] == .null)
        let gone = await #expect(throws: GraphError.self) {
            _ = try await graph.send(GraphRequest("POST", "/directory/deletedItems/\(old)/restore"))
        }
        #expect(gone?.status == 404)
    }

    @Test func deltaReturnsChangesAndDeletionsSinceTheLastLink() async throws {
        let fake = try FakeGraph()
        let first = try await fake.createUser("first")
        let page = try await fake.graph.send(GraphRequest("GET", "/users/delta")).object
        let link = try #require(page["@odata.deltaLink"]?.stringValue)
        #expect(page["value"]?.arrayValue?.count == 1)
        let second = try await fake.createUser("second")
        _ = try await fake.graph.send(GraphRequest("DELETE", "/users/\(first)"))
        let transport = FakeTenantTransport(tenant: fake.tenant)
        // The in-process transport answers JSON as values, not bytes.
        let changes = try #require(try await transport.send(HTTPRequest(method: "GET", url: link)).json)
        let values = changes["value"]?.arrayValue ?? []
        #expect(values.contains { $0["id"]?.stringValue == second })
        #expect(values.contains { $0["id"]?.stringValue == first && $0["@removed"] != nil })
    }

    @Test func filtersSupportGraphsOperatorsAndAdvancedQueries() async throws {
        let fake = try FakeGraph()
        for name in ["anna", "andre", "bob"] { _ = try await fake.createUser(name) }
        _ = try await fake.graph.send(
            GraphRequest(
                "POST", "/groups",
                body: [
                    "displayName": "Team", "mailEnabled": true, "mailNickname": "team", "securityEnabled": false, "groupTypes": ["Unified"],
                ]))
        #expect(try await fake.graph.list("/users", query: [QueryItem("$filter", "startsWith(displayName,'an')")]).count == 2)
        #expect(try await fake.graph.list("/users", query: [QueryItem("$filter", "mailNickname in ('anna','bob')")]).count == 2)
        #expect(try await fake.graph.list("/groups", query: [QueryItem("$filter", "groupTypes/any(c:c eq 'Unified')")]).count == 1)
        let advanced = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.list("/users", query: [QueryItem("$filter", "displayName ne 'bob'")])
        }
        #expect(advanced?.code == "Request_UnsupportedQuery")
        let counted = try await fake.graph.send(
            GraphRequest(
                "GET", "/users", query: [QueryItem("$filter", "displayName ne 'bob'"), QueryItem("$count", "true")],
                headers: ["ConsistencyLevel": "eventual"])
        ).object
        #expect(counted["@odata.count"]?.numberValue == 2)
    }

    @Test func batchRunsUpToTwentyRequestsWithDependsOn() async throws {
        let fake = try FakeGraph()
        let group = try await fake.createGroup("g")
        var requests: [JSONValue] = []
        for index in 0..<3 {
            requests.append([
                "id": .string("u\(index)"), "method": "POST", "url": "/users", "headers": ["Content-Type": "application/json"],
                "body": fake.user("batch\(index)"),
            ])
        }
        requests.append([
            "id": "dup", "method": "POST", "url": "/users", "headers": ["Content-Type": "application/json"], "body": fake.user("batch0"),
            "dependsOn": ["u0"],
        ])
        requests.append(["id": "after", "method": "GET", "url": .string("/groups/\(group)"), "dependsOn": ["dup"]])
        let response = try await fake.graph.send(GraphRequest("POST", "/$batch", body: ["requests": .array(requests)])).object
        let byID = Dictionary(
            uniqueKeysWithValues: (response["responses"]?.arrayValue ?? []).map { ($0["id"]!.stringValue!, $0["status"]!.numberValue!) })
        #expect(byID == ["u0": 201, "u1": 201, "u2": 201, "dup": 400, "after": 424])
        let tooMany = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "POST", "/$batch",
                    body: ["requests": .array((0..<21).map { ["id": .string("r\($0)"), "method": "GET", "url": "/users"] })]))
        }
        #expect(tooMany?.status == 400)
    }
}

@Suite struct ThrottlingTests {
    /// A tenant with the realistic profile on a simulated clock.
    func realistic(_ profile: FakeTenantProfile? = nil) throws -> (FakeTenant, VirtualClock) {
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com",
            profile: profile ?? FakeTenantProfile.named("realistic"), clock: { clock.instant })
        return (tenant, clock)
    }

    func post(_ tenant: FakeTenant, _ path: String, _ body: JSONValue) async throws -> HTTPResponse {
        await tenant.handle(
            HTTPRequest(
                method: "POST", url: FakeTenantTransport.baseURL + path, headers: ["Content-Type": "application/json"],
                body: try JSONCoding.encode(body)))
    }

    @Test func quotasMatchGraphsDocumentedLimits() async throws {
        let (tenant, _) = try realistic()
        // 3,000 writes per app per 150 s: the 3,001st at the same instant is refused, with Retry-After.
        for index in 0..<3_000 {
            let response = try await post(
                tenant, "/groups",
                ["displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true])
            #expect(response.status == 201)
            if response.status != 201 { return }
        }
        let refused = try await post(
            tenant, "/groups", ["displayName": "g", "mailEnabled": false, "mailNickname": "over", "securityEnabled": true])
        #expect(refused.status == 429)
        #expect(refused.headers["retry-after"] == "1")
        #expect(refused.headers["x-ms-throttle-limit-percentage"] != nil)
        #expect(refused.headers["x-ms-resource-unit"] == "1")

        // Conditional Access: one request per second per tenant, and the 429 may carry no Retry-After.
        let (ca, _) = try realistic()
        let location: JSONValue = [
            "@odata.type": "#microsoft.graph.countryNamedLocation", "displayName": "Blocked", "countriesAndRegions": ["KP"],
        ]
        #expect(try await post(ca, "/identity/conditionalAccess/namedLocations", location).status == 201)
        let second = try await post(ca, "/identity/conditionalAccess/namedLocations", location)
        #expect(second.status == 429)
        #expect(second.headers["retry-after"] == nil)
    }

    @Test func resourceUnitsDependOnTenantSize() async throws {
        let (tenant, _) = try realistic()
        var admitted = 0
        while admitted < 5_000 {
            let response = await tenant.handle(HTTPRequest(method: "GET", url: FakeTenantTransport.baseURL + "/organization"))
            if response.status == 429 { break }
            admitted += 1
        }
        #expect(admitted == 3_500)  // fewer than 50 users: 3,500 resource units per 10 s
    }

    @Test func aClientThatIgnoresRetryAfterGetsLessDone() async throws {
        var profile = try FakeTenantProfile.named("realistic")
        profile.throttling.writesPerApp = 300  // a smaller quota keeps the test quick; the arithmetic is the same
        func created(honouring: Bool) async throws -> Int {
            let (tenant, clock) = try realistic(profile)
            let end = clock.instant.addingTimeInterval(600)
            var count = 0
            while clock.instant < end {
                let response = try await post(
                    tenant, "/groups",
                    [
                        "displayName": "g", "mailEnabled": false, "mailNickname": .string("n\(count)-\(clock.elapsed)"),
                        "securityEnabled": true,
                    ])
                if response.status == 201 {
                    count += 1
                } else if honouring, let wait = response.headers["retry-after"].flatMap(Double.init) {
                    try await clock.sleep(seconds: wait)
                } else {
                    try await clock.sleep(seconds: 0.05)  // hammering: retry at once
                }
            }
            return count
        }
        let polite = try await created(honouring: true)
        let hammering = try await created(honouring: false)
        #expect(polite > hammering)
        // 300 up front, then one write per Retry-After second: the refused request itself still counts against the
        // quota, so even a polite client that waits for 429s gets half the refill rate — a governor should avoid them.
        #expect(polite >= 850)
        #expect(hammering < 400)
    }

    /// The time a client waits for the write quota (what a tabletop reports as its throttling component) stays within
    /// the arithmetic: no less than the writes beyond the first full quota ÷ the rate, no more than 10% over writes ÷ rate.
    @Test func throttlingTimeAgreesWithTheWriteQuotaLowerBound() async throws {
        let (tenant, clock) = try realistic()
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock)
        let writes = 9_000, workers = 8
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for index in stride(from: worker, to: writes, by: workers) {
                        _ = try await graph.send(
                            GraphRequest(
                                "POST", "/groups",
                                body: [
                                    "displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true,
                                ]))
                    }
                }
            }
            try await group.waitForAll()
        }
        let throttling = try FakeTenantProfile.named("realistic").throttling
        #expect(throttling.sustainedWritesPerSecond == 20)
        #expect(await tenant.admittedWriteUnits == writes)
        let bound = try #require(throttling.writeTimeLowerBound(writes: writes))
        #expect(bound == 450)
        let waited = (clock.waited[.throttling] ?? 0)
        #expect(waited >= Double(writes - throttling.writesPerApp) / 20, "waited \(waited) s")
        #expect(waited <= bound * 1.1, "waited \(waited) s")
        #expect((clock.waited[.other] ?? 0) == 0)
    }

    @Test func replicationLagHidesNewObjectsFromReferences() async throws {
        let clock = VirtualClock()
        var profile = FakeTenantProfile.fast
        profile.replicationLagSeconds = 5
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", profile: profile, clock: { clock.instant })
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock,
            retry: RetryPolicy(maxTransientAttempts: 1))
        let fake = FakeGraph(tenant: tenant, graph: graph)
        let group = try await fake.createGroup("g")
        let user = try await fake.createUser("new")
        let early = await #expect(throws: GraphError.self) {
            _ = try await graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(user)]))
        }
        #expect(early?.isNotFound == true)
        clock.advance(by: 10)
        _ = try await graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(user)]))
        #expect(await tenant.relationship("members", of: group) == [user])
    }
}

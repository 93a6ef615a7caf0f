import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// Requests checked as Graph checks them, each rule with the reference page it comes from.
@Suite struct StrictRequestTests {
    /// application.md (identifierUris: a verified domain of the tenant); HostNameNotOnVerifiedDomain.
    @Test func httpIdentifierURIsNeedAVerifiedDomain() async throws {
        let fake = try FakeGraph()
        let foreign = await fake.attempt(
            "POST", "/applications", body: ["displayName": "A", "identifierUris": ["https://contoso.com/api"]])
        #expect(foreign.status == 400 && foreign.code == "HostNameNotOnVerifiedDomain")
        let initial = await fake.attempt(
            "POST", "/applications", body: ["displayName": "B", "identifierUris": ["https://api.fabrikamdr.onmicrosoft.com/x"]])
        #expect(initial.status == 201)
        try await fake.tenant.addDomain("contoso.com", verified: true)
        #expect(
            await fake.attempt("POST", "/applications", body: ["displayName": "C", "identifierUris": ["https://contoso.com/api"]]).status
                == 201)
        #expect(
            await fake.attempt("POST", "/applications", body: ["displayName": "D", "identifierUris": ["api://expenses"]]).status == 201)
    }

    /// user.md, group.md, application.md: properties marked Read-only are refused on create and update.
    @Test func readOnlyPropertiesAreRefused() async throws {
        let fake = try FakeGraph()
        var user = fake.user("ada").objectValue!
        user["createdDateTime"] = "2020-01-01T00:00:00Z"
        #expect(await fake.attempt("POST", "/users", body: .object(user)).status == 400)
        let group: JSONValue = [
            "displayName": "g", "mailEnabled": false, "mailNickname": "g", "securityEnabled": true, "mail": "g@contoso.com",
        ]
        #expect(await fake.attempt("POST", "/groups", body: group).code == "Request_BadRequest")
        let synced: JSONValue = [
            "displayName": "g", "mailEnabled": false, "mailNickname": "g2", "securityEnabled": true, "onPremisesSyncEnabled": true,
        ]
        #expect(await fake.attempt("POST", "/groups", body: synced).status == 400)
        for key in ["appId", "publisherDomain", "id"] {
            #expect(
                await fake.attempt("POST", "/applications", body: ["displayName": "x", .init(stringLiteral: key): "v"] as JSONValue).status
                    == 400, "\(key)")
        }
        let id = try await fake.createUser("bo")
        let stored = try await fake.graph.get("/users/\(id)")
        #expect(await fake.attempt("PATCH", "/users/\(id)", body: ["id": stored["id"]!]).status == 400)
        #expect(await fake.attempt("PATCH", "/users/\(id)", body: ["jobTitle": "CFO"]).status == 204)
    }

    /// conditionalaccesspolicy.md (state enum in the CSDL), conditionalaccessgrantcontrols.md (authenticationStrength is a
    /// navigation property: a reference by id, not an object with annotations).
    @Test func enumValuesNavigationPropertiesAndNestedAnnotationsAreRefused() async throws {
        let fake = try FakeGraph()
        var policy = FakeGraph.policy.objectValue!
        policy["conditions"] = [
            "users": ["includeUsers": ["All"]], "applications": ["includeApplications": ["All"]], "clientAppTypes": ["browser", "fax"],
        ]
        let badEnum = await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(policy))
        #expect(badEnum.status == 400 && badEnum.code == "BadRequest")

        var inline = FakeGraph.policy.objectValue!
        inline["grantControls"] = [
            "operator": "OR",
            "authenticationStrength": [
                "id": "00000000-0000-0000-0000-000000000002", "displayName": "MFA",
                "allowedCombinations": ["password,sms"],
            ],
        ]
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(inline)).status == 400)
        var annotated = FakeGraph.policy.objectValue!
        annotated["grantControls"] = [
            "operator": "OR", "builtInControls": ["mfa"],
            "authenticationStrength@odata.context": "https://graph.microsoft.com/v1.0/$metadata#x",
        ]
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(annotated)).status == 400)
        var reference = FakeGraph.policy.objectValue!
        reference["grantControls"] = ["operator": "OR", "authenticationStrength": ["id": "00000000-0000-0000-0000-000000000002"]]
        #expect(await fake.attempt("POST", "/identity/conditionalAccess/policies", body: .object(reference)).status == 201)
        let violations = GraphSchema.v1.valueViolations(in: ["state": "on"], of: "conditionalAccessPolicy")
        #expect(violations.map(\.path) == ["state"])
    }

    /// federatedidentitycredential.md, application-post-federatedidentitycredentials.md: v1.0 has no claimsMatchingExpression.
    @Test func betaPropertiesOnFederatedCredentialsAreRefused() async throws {
        let fake = try FakeGraph()
        let app = try await fake.graph.send(GraphRequest("POST", "/applications", body: ["displayName": "ci"])).object["id"]!.stringValue!
        let credential: JSONValue = [
            "name": "gh", "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:x/y:ref:refs/heads/main",
            "audiences": ["api://AzureADTokenExchange"],
        ]
        var beta = credential.objectValue!
        beta["claimsMatchingExpression"] = ["value": "claims['sub'] eq 'x'", "languageVersion": 1]
        let refused = await fake.attempt("POST", "/applications/\(app)/federatedIdentityCredentials", body: .object(beta))
        #expect(refused.status == 400 && refused.code == "Request_BadRequest")
        #expect(await fake.attempt("POST", "/applications/\(app)/federatedIdentityCredentials", body: credential).status == 201)
    }

    /// administrativeunit.md (membershipType Dynamic), administrativeunit-post-members.md.
    @Test func dynamicAdministrativeUnitsRefuseMemberAdds() async throws {
        let fake = try FakeGraph()
        let user = try await fake.createUser("ada")
        let unit = try await fake.graph.send(
            GraphRequest(
                "POST", "/directory/administrativeUnits",
                body: [
                    "displayName": "Dyn", "membershipType": "Dynamic", "membershipRule": "(user.country -eq \"DE\")",
                    "membershipRuleProcessingState": "On",
                ])
        ).object["id"]!.stringValue!
        let refused = await fake.attempt("POST", "/directory/administrativeUnits/\(unit)/members/$ref", body: ["@odata.id": fake.ref(user)])
        #expect(refused.status == 400 && refused.code == "Request_BadRequest")
    }

    /// aad-advanced-queries.md, user-list.md: `/users/$count` needs ConsistencyLevel: eventual and answers plain text;
    /// directory-deleteditems-list.md: the type cast in both spellings.
    @Test func countSegmentsAndTypeCastsInBothSpellings() async throws {
        let fake = try FakeGraph()
        let ids = [try await fake.createUser("ada"), try await fake.createUser("bo")]
        let base = FakeTenantTransport.baseURL
        let plain = await fake.tenant.handle(HTTPRequest(method: "GET", url: "\(base)/users/$count"))
        #expect(plain.status == 400)
        let counted = await fake.tenant.handle(
            HTTPRequest(method: "GET", url: "\(base)/users/$count", headers: ["ConsistencyLevel": "eventual"]))
        #expect(counted.status == 200 && String(decoding: counted.body, as: UTF8.self) == "2")
        _ = try await fake.tenant.delete(ids: [ids[0]])
        for cast in ["microsoft.graph.user", "graph.user"] {
            let list = try await fake.graph.get("/directory/deletedItems/\(cast)")
            #expect(list["value"]?.arrayValue?.count == 1, "\(cast)")
        }
        let group = try await fake.createGroup("g")
        _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(ids[1])]))
        #expect(try await fake.graph.get("/groups/\(group)/members/graph.user")["value"]?.arrayValue?.count == 1)
        #expect(try await fake.graph.get("/groups/\(group)/members/microsoft.graph.group")["value"]?.arrayValue?.isEmpty == true)
    }

    /// query-parameters.md: `$expand` returns at most 20 directory objects and is not supported with advanced queries.
    @Test func expandReturnsAtMostTwentyAndRefusesAdvancedQueries() async throws {
        let fake = try FakeGraph()
        let group = try await fake.createGroup("big")
        for index in 0..<25 {
            let user = try await fake.createUser("u\(index)")
            _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(user)]))
        }
        let expanded = try await fake.graph.get("/groups/\(group)", query: [QueryItem("$expand", "members")])
        #expect(expanded["members"]?.arrayValue?.count == 20)
        let advanced = await fake.attempt(
            "GET", "/groups", query: [QueryItem("$expand", "members"), QueryItem("$count", "true")],
            headers: ["ConsistencyLevel": "eventual"])
        #expect(advanced.status == 400 && advanced.code == "Request_UnsupportedQuery")
        #expect(
            await fake.attempt("GET", "/groups", query: [QueryItem("$count", "true")], headers: ["ConsistencyLevel": "eventual"]).status
                == 200)
    }

    /// user.md "Returned by default" (profile strictRules.defaultPropertySet).
    @Test func withoutSelectOnlyTheDefaultPropertySet() async throws {
        var profile = FakeTenantProfile.fast
        profile.strictRules.defaultPropertySet = true
        let fake = try FakeGraph(profile: profile)
        let id = try await fake.createUser("ada")
        _ = try await fake.graph.send(GraphRequest("PATCH", "/users/\(id)", body: ["jobTitle": "CFO", "department": "Finance"]))
        let plain = try await fake.graph.get("/users/\(id)")
        #expect(plain["jobTitle"]?.stringValue == "CFO" && plain["department"] == nil && plain["accountEnabled"] == nil)
        let selected = try await fake.graph.get("/users/\(id)", query: [QueryItem("$select", "department,accountEnabled")])
        #expect(selected["department"]?.stringValue == "Finance" && selected["accountEnabled"]?.boolValue == true)
        let listed = try await fake.graph.get("/users")["value"]?.arrayValue?.first
        #expect(listed?["department"] == nil)
    }
}

/// Eventual consistency (aad-advanced-queries.md, known-issues.md), on a simulated clock.
@Suite struct EventualConsistencyTests {
    @Test func aNewObjectIsMissingFromListsFilterCountAndReadsUntilReplicated() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        var profile = FakeTenantProfile.fast
        profile.replicationLagSeconds = 10
        profile.strictRules = .all
        profile.strictRules.defaultPropertySet = false
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", profile: profile, clock: { clock.instant })
        let fake = FakeGraph(
            tenant: tenant,
            graph: GraphClient(
                baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant),
                retry: RetryPolicy(maxTransientAttempts: 1, initialBackoff: 0.001, maxBackoff: 0.001)))
        let id = try await fake.createUser("ada")
        #expect(try await fake.graph.get("/users")["value"]?.arrayValue?.isEmpty == true)
        #expect(
            try await fake.graph.get("/users", query: [QueryItem("$filter", "userPrincipalName eq 'ada@fabrikamdr.onmicrosoft.com'")])[
                "value"]?.arrayValue?.isEmpty == true)
        let counted = await tenant.handle(
            HTTPRequest(method: "GET", url: "\(FakeTenantTransport.baseURL)/users/$count", headers: ["ConsistencyLevel": "eventual"]))
        #expect(String(decoding: counted.body, as: UTF8.self) == "0")
        #expect(await fake.attempt("GET", "/users/\(id)").status == 404)
        clock.advance(by: 16)
        #expect(try await fake.graph.get("/users")["value"]?.arrayValue?.count == 1)
        #expect(await fake.attempt("GET", "/users/\(id)").status == 200)
    }
}

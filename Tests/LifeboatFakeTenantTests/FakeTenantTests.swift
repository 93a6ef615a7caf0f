import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// A Graph client over an in-process fake tenant of its own.
struct FakeGraph {
    let tenant: FakeTenant
    let graph: GraphClient

    init(stateFile: String? = nil) throws {
        tenant = try FakeTenant(stateFile: stateFile, initialDomain: "fabrikamdr.onmicrosoft.com")
        graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant),
            retry: RetryPolicy(maxTransientAttempts: 1, initialBackoff: 0.001, maxBackoff: 0.001))
    }

    init(tenant: FakeTenant, graph: GraphClient) {
        self.tenant = tenant
        self.graph = graph
    }

    func user(_ name: String, domain: String = "fabrikamdr.onmicrosoft.com") -> JSONValue {
        [
            "accountEnabled": true, "displayName": .string(name), "mailNickname": .string(name),
            "userPrincipalName": .string("\(name)@\(domain)"), "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
        ]
    }

    func createUser(_ name: String) async throws -> String {
        try await graph.send(GraphRequest("POST", "/users", body: user(name))).object["id"]!.stringValue!
    }

    func createGroup(_ name: String) async throws -> String {
        let body: JSONValue = ["displayName": .string(name), "mailEnabled": false, "mailNickname": .string(name), "securityEnabled": true]
        return try await graph.send(GraphRequest("POST", "/groups", body: body)).object["id"]!.stringValue!
    }

    func ref(_ id: String) -> JSONValue { .string("\(FakeTenantTransport.baseURL)/directoryObjects/\(id)") }
}

@Suite struct FakeTenantDirectoryTests {
    @Test func usersGetNewIDsAndUniqueUPNsOnVerifiedDomains() async throws {
        let fake = try FakeGraph()
        let id = try await fake.createUser("ada")
        #expect(UUID(uuidString: id) != nil)
        let duplicate = await #expect(throws: GraphError.self) { _ = try await fake.createUser("ada") }
        #expect(duplicate?.status == 400)
        #expect(duplicate?.message.contains("already exists") == true)
        #expect(duplicate?.requestID != nil)
        let unverified = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/users", body: fake.user("bob", domain: "contoso.com")))
        }
        #expect(unverified?.message.contains("verified domain") == true)
        let missing = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/users", body: ["displayName": "x"]))
        }
        #expect(missing?.message.contains("is required") == true)
        // The password is never returned.
        let read = try await fake.graph.get("/users/\(id)")
        #expect(read["passwordProfile"] == nil)
    }

    @Test func membersBindIsLimitedToTwentyAndAllOrNothing() async throws {
        let fake = try FakeGraph()
        let group = try await fake.createGroup("sg")
        var users: [String] = []
        for index in 0..<21 { users.append(try await fake.createUser("u\(index)")) }

        let tooMany = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest("PATCH", "/groups/\(group)", body: ["members@odata.bind": .array(users.map(fake.ref))]))
        }
        #expect(tooMany?.status == 400)
        #expect(await fake.tenant.relationship("members", of: group).isEmpty)

        let withMissing = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(
                GraphRequest(
                    "PATCH", "/groups/\(group)",
                    body: ["members@odata.bind": .array(users.prefix(3).map(fake.ref) + [fake.ref(UUID().uuidString)])]))
        }
        #expect(withMissing?.isNotFound == true)
        #expect(await fake.tenant.relationship("members", of: group).isEmpty)

        _ = try await fake.graph.send(
            GraphRequest("PATCH", "/groups/\(group)", body: ["members@odata.bind": .array(users.prefix(20).map(fake.ref))]))
        #expect(await fake.tenant.relationship("members", of: group).count == 20)

        let again = await #expect(throws: GraphError.self) {
            _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(users[0])]))
        }
        #expect(again?.isAlreadyExists == true)
    }

    @Test func upsertByUniqueNameCreatesOnceThenUpdates() async throws {
        let fake = try FakeGraph()
        let body: JSONValue = ["displayName": "Finance", "mailEnabled": false, "mailNickname": "finance", "securityEnabled": true]
        let path = "/groups(uniqueName='finance-team')"
        let missing = await #expect(throws: GraphError.self) { _ = try await fake.graph.send(GraphRequest("PATCH", path, body: body)) }
        #expect(missing?.status == 404)
        let created = try await fake.graph.send(GraphRequest("PATCH", path, headers: ["Prefer": "create-if-missing"], body: body))
        #expect(created.status == 201)
        let updated = try await fake.graph.send(GraphRequest("PATCH", path, headers: ["Prefer": "create-if-missing"], body: body))
        #expect(updated.status == 204)
        #expect(await fake.tenant.objects(ofType: "group").count == 1)
        let found = try await fake.graph.list("/groups", query: [QueryItem("$filter", "uniqueName eq 'finance-team'")])
        #expect(found.first?["id"] == created.object["id"])
    }

    @Test func listsPageWithNextLinkAndSelect() async throws {
        let fake = try FakeGraph()
        for index in 0..<25 { _ = try await fake.createUser("p\(index)") }
        let first = try await fake.graph.send(
            GraphRequest("GET", "/users", query: [QueryItem("$top", "10"), QueryItem("$select", "id,displayName")]))
        #expect(first.object["value"]?.arrayValue?.count == 10)
        #expect(first.object["value"]?.arrayValue?.first?["userPrincipalName"] == nil)
        #expect(first.object["@odata.nextLink"]?.stringValue?.contains("$skiptoken=") == true)
        let all = try await fake.graph.list("/users", query: [QueryItem("$top", "10")])
        #expect(all.count == 25)
        #expect(Set(all.compactMap { $0["id"]?.stringValue }).count == 25)
        let bad = await #expect(throws: GraphError.self) { _ = try await fake.graph.list("/users", query: [QueryItem("$top", "1000")]) }
        #expect(bad?.status == 400)
    }

    @Test func filtersWithQuotesAndGuestCharacters() async throws {
        let fake = try FakeGraph()
        _ = try await fake.graph.send(
            GraphRequest(
                "POST", "/invitations",
                body: [
                    "invitedUserEmailAddress": "o'brien@partner.example", "inviteRedirectUrl": "https://myapps.microsoft.com",
                    "sendInvitationMessage": false,
                ]))
        let found = try await fake.graph.list(
            "/users", query: [QueryItem("$filter", "mail eq \(GraphClient.literal("o'brien@partner.example"))")])
        #expect(found.count == 1)
        let upn = try #require(found.first?["userPrincipalName"]?.stringValue)
        #expect(upn.contains("#EXT#"))
        let byUPN = try await fake.graph.list("/users", query: [QueryItem("$filter", "userPrincipalName eq \(GraphClient.literal(upn))")])
        #expect(byUPN.count == 1)
    }

    @Test func stateSurvivesReopening() async throws {
        let directory = try TemporaryDirectory("fake-persist")
        let fake = try FakeGraph(stateFile: directory.path("fake.sqlite"))
        let user = try await fake.createUser("kept")
        let group = try await fake.createGroup("kept-group")
        _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/owners/$ref", body: ["@odata.id": fake.ref(user)]))
        let writes = await fake.tenant.writeCount

        let reopened = try FakeTenant(stateFile: directory.path("fake.sqlite"))
        #expect(reopened.tenantID == fake.tenant.tenantID)
        #expect(reopened.initialDomain == "fabrikamdr.onmicrosoft.com")
        #expect(await reopened.objects(ofType: "user").map { $0["id"]?.stringValue } == [user])
        #expect(await reopened.relationship("owners", of: group) == [user])
        #expect(await reopened.writeCount == writes)
    }

    @Test func answersAsValuesAreTheAnswersAsBytes() async throws {
        let fake = try FakeGraph()
        let user = try await fake.createUser("same")
        let url = FakeTenantTransport.baseURL
        let batch: JSONValue = [
            "requests": [
                ["id": "1", "method": "GET", "url": .string("/users/\(user)?$select=id,displayName")],
                [
                    "id": "2", "method": "PATCH", "url": .string("/users/\(user)"), "headers": ["Content-Type": "application/json"],
                    "body": ["jobTitle": "Pilot"],
                ],
            ]
        ]
        for request in [
            HTTPRequest(method: "GET", url: "\(url)/users?$select=id,userPrincipalName"),
            HTTPRequest(method: "GET", url: "\(url)/users/\(user)"),
        ] {
            var asValue = request
            asValue.json = nil
            guard case .response(let bytes) = await fake.tenant.reply(to: request),
                case .response(let values) = await fake.tenant.reply(to: asValue, bodiesAsValues: true)
            else { Issue.record("no response"); return }
            #expect(values.body.isEmpty && values.json != nil)
            #expect(try JSONCoding.decode(bytes.body) == values.json)
        }
        var asValue = HTTPRequest(method: "POST", url: "\(url)/$batch", headers: ["Content-Type": "application/json"])
        asValue.json = batch
        guard case .response(let answered) = await fake.tenant.reply(to: asValue, bodiesAsValues: true) else {
            Issue.record("no response"); return
        }
        let responses = try #require(answered.json?["responses"]?.arrayValue)
        #expect(Set(responses.compactMap { $0["status"]?.numberValue }) == [200, 204])
        #expect(responses.first { $0["id"]?.stringValue == "1" }?["body"]?["displayName"]?.stringValue == "same")
        #expect(try await fake.graph.get("/users/\(user)")["jobTitle"]?.stringValue == "Pilot")
    }

    @Test func deferredCommitsReachTheFileOnlyWhenCommitted() async throws {
        let directory = try TemporaryDirectory("fake-deferred")
        let tenant = try FakeTenant(
            stateFile: directory.path("fake.sqlite"), initialDomain: "fabrikamdr.onmicrosoft.com", defersCommits: true)
        let fake = FakeGraph(
            tenant: tenant, graph: GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant)))
        let first = try await fake.createUser("first")
        // A process killed now loses the write: another connection to the file does not see it.
        #expect(await (try FakeTenant(stateFile: directory.path("fake.sqlite"))).objects(ofType: "user").isEmpty)
        try await tenant.commit()
        #expect(
            await (try FakeTenant(stateFile: directory.path("fake.sqlite"))).objects(ofType: "user").map { $0["id"]?.stringValue } == [
                first
            ])

        // A failed write rolls back alone (its savepoint), not the writes deferred before it.
        let second = try await fake.createUser("second")
        await #expect(throws: GraphError.self) { _ = try await fake.createUser("second") }
        // A write outside a Graph request (the operator API) commits what is deferred first.
        try await tenant.addDomain("contoso.example", verified: true)
        let reopened = try FakeTenant(stateFile: directory.path("fake.sqlite"))
        #expect(Set(await reopened.objects(ofType: "user").compactMap { $0["id"]?.stringValue }) == [first, second])
        #expect(await reopened.writeCount == 2)
    }

    @Test func answersWithGraphErrorBodies() async throws {
        let tenant = try FakeTenant(stateFile: nil)
        let response = await tenant.handle(HTTPRequest(method: "GET", url: "\(FakeTenantTransport.baseURL)/users/nope"))
        #expect(response.status == 404)
        let body = try JSONCoding.decode(response.body)
        #expect(body["error"]?["code"]?.stringValue == "Request_ResourceNotFound")
        #expect(body["error"]?["innerError"]?["request-id"]?.stringValue == response.headers["request-id"])
        let malformed = await tenant.handle(
            HTTPRequest(method: "POST", url: "\(FakeTenantTransport.baseURL)/users", body: Data("{\"trunc".utf8)))
        #expect(malformed.status == 400)
    }
}

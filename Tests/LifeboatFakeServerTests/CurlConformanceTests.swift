import Foundation
import LifeboatCurl
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// The served fake tenant as Lifeboat's live path sees it: libcurl, client-credentials sign-in and GraphClient over real HTTP.
struct CurlSession: TestStoppable {
    let served: ServedTenant
    let graph: GraphClient
    let transport: CurlTransport
    let tokens: ClientCredentials

    /// `clock`, when given, is the token endpoint's, the token cache's and the client's: tokens expire when the test moves it.
    static func start(
        profile: FakeTenantProfile = .fast, tokenLifetime: Int = 3599, retry: RetryPolicy = RetryPolicy(),
        clock: VirtualClock? = nil
    ) async throws -> CurlSession {
        let served = try await ServedTenant.start(tokenLifetime: tokenLifetime, profile: profile, now: { clock?.instant ?? Date() })
        let transport = try CurlTransport(configuration: .init())
        let endpoints = GraphEndpoints(graphURL: served.base, authorityURL: served.base)
        let graphClock: any GraphClock = clock ?? SystemClock()
        let tokens = ClientCredentials(
            tenant: served.tenant.tenantID, clientID: ServedTenant.clientID,
            credential: .secret(try .environment("SECRET", in: ["SECRET": ServedTenant.secret])),
            endpoints: endpoints, transport: transport, clock: graphClock)
        let graph = GraphClient(baseURL: endpoints.baseURL, transport: transport, clock: graphClock, tokens: tokens, retry: retry)
        return CurlSession(served: served, graph: graph, transport: transport, tokens: tokens)
    }

    func user(_ name: String) -> JSONValue {
        [
            "accountEnabled": true, "displayName": .string(name), "mailNickname": .string(name),
            "userPrincipalName": .string("\(name)@\(served.tenant.initialDomain)"),
            "passwordProfile": ["password": "Correct-Horse-9!", "forceChangePasswordNextSignIn": true],
        ]
    }

    func create(_ path: String, _ body: JSONValue) async throws -> JSONObject {
        try await graph.send(GraphRequest("POST", path, body: body)).object
    }

    /// One raw exchange with a fresh bearer token, to look at statuses and headers the client would act on.
    func raw(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> HTTPResponse {
        let token = try await tokens.accessToken()
        return try await transport.send(
            HTTPRequest(
                method: method, url: served.base + "/v1.0" + path,
                headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: try body.map { try JSONCoding.encode($0) }))
    }

    func stop() async { await served.stop() }
}

/// Graph behaviour a rebuild depends on, checked over real HTTP through the project's own curl client.
@Suite struct CurlConformanceTests {
    @Test func pagingFollowsNextLinksToTheEnd() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            for index in 0..<23 { _ = try await session.create("/users", session.user("pager\(index)")) }
            let first = try await session.graph.send(
                GraphRequest("GET", "/users", query: [QueryItem("$top", "5"), QueryItem("$select", "id,displayName")])
            ).object
            #expect(first["value"]?.arrayValue?.count == 5)
            let next = try #require(first["@odata.nextLink"]?.stringValue)
            #expect(next.hasPrefix(session.served.base + "/v1.0/users?") && next.contains("skiptoken"))
            #expect(first["value"]?.arrayValue?.first?["userPrincipalName"] == nil, "$select keeps only what was asked")
            let all = try await session.graph.list("/users", query: [QueryItem("$top", "5")])
            #expect(all.count == 23)
            #expect(Set(all.compactMap { $0["id"]?.stringValue }).count == 23)
        }
    }

    @Test func batchAnswersEachRequestWithDependsOnAndTheTwentyLimit() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            let requests =
                (0..<3).map { GraphRequest("POST", "/users", body: session.user("batch\($0)")) } + [
                    GraphRequest("POST", "/users", body: session.user("batch0"))
                ]
            let results = await session.graph.batch(requests)
            #expect(results.count == 4)
            #expect(results.prefix(3).allSatisfy { (try? $0.get().status) == 201 })
            guard case .failure(let duplicate) = results[3] else { Issue.record("a duplicate UPN was accepted in a batch"); return }
            #expect(duplicate.status == 400)

            var raw: [JSONValue] = [
                [
                    "id": "a", "method": "POST", "url": "/users", "headers": ["Content-Type": "application/json"],
                    "body": session.user("batch1"),
                ],
                ["id": "b", "method": "GET", "url": "/organization", "dependsOn": ["a"]],
            ]
            let answer = try await session.raw("POST", "/$batch", body: ["requests": .array(raw)])
            let statuses = Dictionary(
                uniqueKeysWithValues: (try JSONCoding.decode(answer.body)["responses"]?.arrayValue ?? []).compactMap {
                    item -> (String, Double)? in
                    guard let id = item["id"]?.stringValue, let status = item["status"]?.numberValue else { return nil }
                    return (id, status)
                })
            #expect(statuses == ["a": 400, "b": 424])
            raw = (0..<21).map { ["id": .string("r\($0)"), "method": "GET", "url": "/organization"] }
            #expect(try await session.raw("POST", "/$batch", body: ["requests": .array(raw)]).status == 400)
        }
    }

    @Test func odataBindIsLimitedToTwentyAndAllOrNothing() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            var ids: [String] = []
            for index in 0..<21 {
                ids.append(try #require(try await session.create("/users", session.user("m\(index)"))["id"]?.stringValue))
            }
            func group(_ name: String, members: [String]) -> JSONValue {
                [
                    "displayName": .string(name), "mailEnabled": false, "mailNickname": .string(name), "securityEnabled": true,
                    "members@odata.bind": .array(members.map { .string(session.served.base + "/v1.0/directoryObjects/\($0)") }),
                ]
            }
            let tooMany = try await session.raw("POST", "/groups", body: group("too-many", members: ids))
            #expect(tooMany.status == 400)
            let withMissing = try await session.raw(
                "POST", "/groups", body: group("one-missing", members: Array(ids.prefix(3)) + ["00000000-0000-0000-0000-00000000dead"]))
            #expect(withMissing.status == 404 || withMissing.status == 400)
            let groups = try await session.graph.list("/groups")
            #expect(
                !groups.contains { ["too-many", "one-missing"].contains($0["displayName"]?.stringValue ?? "") },
                "a refused bind created the group anyway")
            let created = try await session.create("/groups", group("twenty", members: Array(ids.prefix(20))))
            let members = try await session.graph.list("/groups/\(created["id"]!.stringValue!)/members")
            #expect(members.count == 20)
        }
    }

    @Test func upsertByUniqueNameCreatesOnceThenUpdates() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            let body: JSONValue = ["displayName": "Finance", "mailEnabled": false, "mailNickname": "finance", "securityEnabled": true]
            let request = GraphRequest(
                "PATCH", "/groups(uniqueName='lifeboat-finance')", headers: ["Prefer": "create-if-missing"], body: body)
            let first = try await session.graph.send(request)
            #expect(first.status == 201)
            let again = try await session.graph.send(request)
            #expect(again.status == 204)
            let groups = try await session.graph.list("/groups", query: [QueryItem("$filter", "uniqueName eq 'lifeboat-finance'")])
            #expect(groups.count == 1)
        }
    }

    @Test func recycleBinRestoresTheOriginalID() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            let id = try #require(try await session.create("/users", session.user("deleted"))["id"]?.stringValue)
            _ = try await session.graph.send(GraphRequest("DELETE", "/users/\(id)"))
            await #expect(throws: GraphError.self) { _ = try await session.graph.get("/users/\(id)") }
            let bin = try await session.graph.list("/directory/deletedItems/microsoft.graph.user")
            #expect(bin.contains { $0["id"]?.stringValue == id })
            let restored = try await session.graph.send(GraphRequest("POST", "/directory/deletedItems/\(id)/restore")).object
            #expect(restored["id"]?.stringValue == id)
            #expect(try await session.graph.get("/users/\(id)")["id"]?.stringValue == id)
        }
    }

    @Test func uniquenessAndUnknownPropertiesAreRefusedWithGraphsErrors() async throws {
        let session = try await CurlSession.start()
        try await stopping(session) { session in
            _ = try await session.create("/users", session.user("unique"))
            do {
                _ = try await session.create("/users", session.user("unique"))
                Issue.record("a duplicate userPrincipalName was accepted")
            } catch let error as GraphError {
                #expect(error.status == 400)
                #expect(error.message.contains("userPrincipalName"))
                #expect(error.requestID != nil)
            }
            var body = session.user("typo").objectValue!
            body["favouriteColour"] = "teal"
            do {
                _ = try await session.create("/users", .object(body))
                Issue.record("an unknown property was accepted")
            } catch let error as GraphError {
                #expect(error.status == 400)
                #expect(error.message.contains("favouriteColour"))
            }
        }
    }

    @Test func throttlingAnswers429WithRetryAfterAndResourceUnitHeaders() async throws {
        var profile = try FakeTenantProfile.named("realistic")
        profile.throttling.writesPerApp = 5
        profile.replicationLagSeconds = 0
        let session = try await CurlSession.start(profile: profile)
        try await stopping(session) { session in
            var statuses: [Int] = []
            var refused: HTTPResponse?
            for index in 0..<6 {
                let response = try await session.raw(
                    "POST", "/groups",
                    body: [
                        "displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true,
                    ])
                statuses.append(response.status)
                if response.status == 429 { refused = response }
            }
            #expect(statuses == [201, 201, 201, 201, 201, 429])
            let answer = try #require(refused)
            #expect(Double(answer.headers["retry-after"] ?? "") ?? 0 >= 1)
            #expect(answer.headers["x-ms-throttle-limit-percentage"] != nil)
            #expect(answer.headers["x-ms-resource-unit"] != nil)
            #expect(try JSONCoding.decode(answer.body)["error"]?["code"]?.stringValue == "TooManyRequests")
        }
    }

    @Test func anExpiredTokenIsRefusedAndTheClientRenewsIt() async throws {
        let clock = VirtualClock()
        let session = try await CurlSession.start(tokenLifetime: 3, clock: clock)
        try await stopping(session) { session in
            let token = try await session.tokens.accessToken()
            clock.advance(by: 3.3)
            let stale = try await session.transport.send(
                HTTPRequest(
                    method: "GET", url: session.served.base + "/v1.0/organization",
                    headers: ["Authorization": "Bearer \(token)"]))
            #expect(stale.status == 401)
            #expect(try JSONCoding.decode(stale.body)["error"]?["code"]?.stringValue == "InvalidAuthenticationToken")
            // GraphClient renews before expiry (or after a 401) without the caller noticing.
            let organization = try await session.graph.list("/organization")
            #expect(organization.first?["id"]?.stringValue == session.served.tenant.tenantID)
            #expect(await session.served.server.authority.tokensIssued >= 2)
        }
    }
}

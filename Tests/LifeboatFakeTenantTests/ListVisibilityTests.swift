import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// Lists lag behind writes (concepts/aad-advanced-queries.md, concepts/known-issues.md): each new object stays out of
/// lists, `$count` and references until its own moment passes, whoever asks, and then shows in creation order.
@Suite struct ListVisibilityTests {
    private func tenant(lag: Double, clock: VirtualClock) throws -> FakeGraph {
        var profile = FakeTenantProfile.fast
        profile.replicationLagSeconds = lag
        profile.strictRules = .all
        profile.strictRules.defaultPropertySet = false
        let tenant = try FakeTenant(stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com", profile: profile, clock: { clock.instant })
        return FakeGraph(
            tenant: tenant,
            graph: GraphClient(
                baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant),
                clock: clock, retry: RetryPolicy(maxTransientAttempts: 1)))
    }

    private func listed(_ fake: FakeGraph, _ path: String) async throws -> [String] {
        try await fake.graph.list(path, query: [QueryItem("$top", "999"), QueryItem("$select", "id")]).compactMap { $0["id"]?.stringValue }
    }

    private func count(_ fake: FakeGraph, _ path: String) async -> String {
        let answer = await fake.tenant.handle(
            HTTPRequest(
                method: "GET", url: "\(FakeTenantTransport.baseURL)\(path)/$count",
                headers: ["ConsistencyLevel": "eventual"]))
        return String(decoding: answer.body, as: UTF8.self)
    }

    @Test func aListShowsEachNewObjectOnlyOnceItsOwnMomentHasPassed() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        let fake = try tenant(lag: 10, clock: clock)
        var early: [String] = []
        for number in 0..<40 { early.append(try await fake.createUser("early\(number)")) }
        clock.advance(by: 30)
        #expect(try await listed(fake, "/users") == early)

        // Written later: every one of them is missing from the list, the count and the group's references at first.
        var late: [String] = []
        for number in 0..<3 { late.append(try await fake.createUser("late\(number)")) }
        #expect(try await listed(fake, "/users") == early)
        #expect(await count(fake, "/users") == "\(early.count)")

        // Lag is 0.5–1.5 × the profile's: after 15 s every one has replicated, in creation order, without being read by id.
        clock.advance(by: 16)
        #expect(try await listed(fake, "/users") == early + late)
        #expect(await count(fake, "/users") == "\(early.count + late.count)")
    }

    @Test func aGroupsMembersAreListedWhileOtherObjectsAreStillReplicating() async throws {
        let clock = VirtualClock(start: Date(timeIntervalSince1970: 1_800_000_000))
        let fake = try tenant(lag: 10, clock: clock)
        let group = try await fake.createGroup("staff")
        var members: [String] = []
        for number in 0..<6 { members.append(try await fake.createUser("member\(number)")) }
        clock.advance(by: 30)
        for member in members {
            _ = try await fake.graph.send(GraphRequest("POST", "/groups/\(group)/members/$ref", body: ["@odata.id": fake.ref(member)]))
        }
        // Fewer objects replicating than the group has members, then more: the members are listed either way.
        _ = try await fake.createUser("newcomer")
        #expect(try await listed(fake, "/groups/\(group)/members") == members)
        for number in 0..<20 { _ = try await fake.createUser("wave\(number)") }
        #expect(try await listed(fake, "/groups/\(group)/members") == members)
        #expect(await count(fake, "/groups/\(group)/members") == "\(members.count)")
    }

    /// A Microsoft 365 group's mail nickname must be unused by every group, whatever the case; it is free again once the
    /// group holding it is deleted.
    @Test func aMicrosoft365GroupNeedsAnUnusedMailNickname() async throws {
        let fake = try FakeGraph()
        let security = try await fake.createGroup("Finance")
        func unified(_ nickname: String) async -> Int {
            let body: JSONValue = [
                "displayName": "Finance team", "mailEnabled": true, "mailNickname": .string(nickname), "securityEnabled": false,
                "groupTypes": ["Unified"],
            ]
            do {
                return try await fake.graph.send(GraphRequest("POST", "/groups", body: body)).status
            } catch let error as GraphError {
                return error.status
            } catch {
                return -1
            }
        }
        #expect(await unified("finance") == 400)
        _ = try await fake.graph.send(GraphRequest("DELETE", "/groups/\(security)"))
        #expect(await unified("finance") == 201)
        #expect(await unified("FINANCE") == 400)
    }
}

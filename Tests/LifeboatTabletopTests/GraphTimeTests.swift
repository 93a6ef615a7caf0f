import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTabletop
import LifeboatTestSupport
import Testing

/// Graph time in an in-process tabletop: the client the session builds is paced by the window governor and the
/// endpoint limits (throttling-limits.md), spread over the session's app registrations; users on a verified domain
/// are created on their final UPN. All on the simulated clock.
@Suite struct GraphTimeTests {
    static let rebuild = Fixtures.runbook("rebuild-new-tenant.yaml").path

    /// A session over a fresh realistic fake tenant, with no stages (the test sends its own requests).
    func session(_ directory: TemporaryDirectory, apps: Int = 1) throws -> (TabletopSession, FakeTenant, VirtualClock) {
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, initialDomain: "contosodr.onmicrosoft.com", profile: FakeTenantProfile.named("realistic"),
            clock: { clock.instant })
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        return (
            TabletopSession(scenario: nil, store: store, clock: clock, tenant: tenant, snapshot: snapshot, planned: [], apps: apps), tenant,
            clock
        )
    }

    static func group(_ index: Int) -> GraphRequest {
        GraphRequest(
            "POST", "/groups",
            body: ["displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true])
    }

    /// The session's client has the governor: a burst the app's window allows (2,850 of 3,000 writes per 150 s) is
    /// admitted at once, and the next write waits for the window instead of meeting a 429.
    @Test func theSessionsClientAdmitsAWindowsBurstWithoutWaiting() async throws {
        let directory = try TemporaryDirectory("graph-time-burst")
        let (session, tenant, clock) = try session(directory)
        let graph = session.graphClient()
        let governor = try #require(graph.governor)
        for index in 0..<2_850 { _ = try await graph.send(Self.group(index)) }
        #expect(clock.elapsed == 0)
        #expect(await governor.statistics.delayed == 0)
        _ = try await graph.send(Self.group(2_850))
        #expect(clock.elapsed == 150)
        #expect(await tenant.throttlingCounts.throttled == 0)
    }

    /// Three app registrations: each has its own window (3 × 2,850 writes at once), the fake sees them as three apps,
    /// and after two windows the tenant-wide one (18,000 per 300 s) is full too.
    @Test func threeAppsEachUseTheirOwnWindowUpToTheTenantsQuota() async throws {
        let directory = try TemporaryDirectory("graph-time-apps")
        let (session, tenant, clock) = try session(directory, apps: 3)
        let graph = session.graphClient()
        #expect(graph.apps.map(\.name) == ["lifeboat", "lifeboat-2", "lifeboat-3"])
        for index in 0..<8_550 { _ = try await graph.send(Self.group(index)) }
        #expect(clock.elapsed == 0)
        let usage = await tenant.throttlingUsage
        #expect(usage.writesByApp == ["lifeboat": 2_850, "lifeboat-2": 2_850, "lifeboat-3": 2_850])
        // 17,100 writes (95 % of the tenant's 18,000 per 300 s): the app windows reopen after 150 s, the tenant's binds.
        for index in 8_550..<17_100 { _ = try await graph.send(Self.group(index)) }
        #expect(clock.elapsed == 150)
        _ = try await graph.send(Self.group(17_100))
        #expect(clock.elapsed == 300)
        #expect(await tenant.throttlingCounts.throttled == 0)
        #expect(clock.waited[.throttling] == 300)
    }

    /// Conditional Access requests inside one `$batch` reach Graph together: the client sends at most one per batch,
    /// each at the endpoint's pace (1 request per second), so the fake refuses none of them.
    @Test func conditionalAccessInsideABatchIsPacedAtTheEndpointsLimit() async throws {
        let directory = try TemporaryDirectory("graph-time-batch")
        let (session, tenant, clock) = try session(directory)
        let graph = session.graphClient()
        let requests =
            (0..<5).map { _ in GraphRequest("GET", "/identity/conditionalAccess/policies") }
            + (0..<10).map { _ in GraphRequest("GET", "/users") }
        let results = await graph.batch(requests)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        #expect(await tenant.throttlingCounts.throttled == 0)
        // Five requests at 1 per 1/0.95 s: four intervals.
        #expect(clock.elapsed > 4 && clock.elapsed < 4.5, "took \(clock.elapsed) s")

        // Without the endpoint limit, the same batch meets 429s: the test above can fail.
        let bare = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock,
            governor: ThroughputGovernor(configuration: .init(endpointLimits: []), clock: clock))
        _ = await bare.batch(requests)
        #expect(await tenant.throttlingCounts.throttled > 0)
    }

    /// A 429 without Retry-After from Conditional Access holds back that endpoint's next request by one interval of its
    /// pace, not every request by exponential backoff.
    @Test func aConditionalAccess429WithoutRetryAfterCostsOneInterval() async throws {
        let clock = VirtualClock()
        let governor = ThroughputGovernor(clock: clock)
        _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/identity/conditionalAccess/policies"])
        await governor.observe(
            status: 429, headers: [:], estimated: RequestCost(resourceUnits: 1, writes: 1), path: "/identity/conditionalAccess/policies")
        await governor.release(paths: ["/identity/conditionalAccess/policies"])
        _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/identity/conditionalAccess/policies"])
        #expect(clock.elapsed > 1 && clock.elapsed < 1.1, "\(clock.elapsed)")
        // Other requests were never paused.
        let before = clock.elapsed
        _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"])
        #expect(clock.elapsed == before)
        #expect(await governor.statistics.factor == 1)
    }

    /// The whole shipped runbook in process at the realistic profile: no 429 at all (the governor paces every limit),
    /// and the Conditional Access stages take what 1 request per second allows, not minutes of backoff.
    @Test func aRealisticTabletopIsPacedAndConditionalAccessTakesSeconds() async throws {
        let directory = try TemporaryDirectory("graph-time-ca")
        let rehearsal = Rehearsal(
            runbookPath: Self.rebuild, snapshotPath: Fixtures.contoso.path, profile: try FakeTenantProfile.named("realistic"),
            statePath: directory.path("ca.sqlite"), operatorName: "tester")
        let result = try await rehearsal.run()
        #expect(result.outcome == .completed)
        #expect(result.throttled == 0)
        let estimate = try #require(result.estimate)
        let store = try CheckpointStore(path: result.statePath)
        for stage in ["ca-policies", "enable-ca", "named-locations"] {
            let seconds = try #require(estimate.stages.first { $0.id == stage }).waits["throttling", default: 0]
            let operations = try await store.allOperations(stageID: stage).count
            // At most about two Conditional Access requests per operation (a look-up and the write), 1.05 s apart.
            #expect(seconds <= Double(2 * operations + 1) * 1.06, "\(stage): \(seconds) s throttling for \(operations) operations")
        }
        let limits = estimate.limits.first { $0.scope == ThrottleScope.conditionalAccess }
        if let limits { #expect(limits.waited <= limits.lowerBound * 1.1 + 0.001, "\(limits.waited) vs \(limits.lowerBound)") }
    }

    /// The shipped runbook verifies the domains before it creates users: users of a verified domain are created on
    /// their final UPN and users.rename writes nothing for them. The same run with `finalUPNWhenVerified: false`
    /// shows the write each of them saved.
    @Test func usersOfAVerifiedDomainAreCreatedOnTheirFinalUPN() async throws {
        let directory = try TemporaryDirectory("graph-time-upn")
        let text = try String(contentsOfFile: Self.rebuild, encoding: .utf8)
        let marker = "      otherDomainsTo: ${recoveryDomain}\n"
        let first = try #require(text.range(of: marker))
        let old = directory.path("rename-later.yaml")
        try text.replacingCharacters(in: first, with: marker + "      finalUPNWhenVerified: false\n").write(
            toFile: old, atomically: true, encoding: .utf8)
        let profile = try FakeTenantProfile.named("realistic")
        func rehearse(_ runbook: String, _ name: String) async throws -> (Rehearsal.Result, CheckpointStore) {
            var rehearsal = Rehearsal(
                runbookPath: runbook, snapshotPath: Fixtures.contoso.path, profile: profile, statePath: directory.path("\(name).sqlite"),
                operatorName: "tester")
            rehearsal.parameters = Fixtures.contosoParameters
            let result = try await rehearsal.run()
            #expect(result.outcome == .completed, "\(name): \(result.outcome)")
            return (result, try CheckpointStore(path: result.statePath))
        }
        let (now, nowStore) = try await rehearse(Self.rebuild, "final")
        let (later, laterStore) = try await rehearse(old, "later")
        let renamedLater = try await laterStore.allOperations(stageID: "rename-users").filter { $0.result == .applied }.count
        let renamedNow = try await nowStore.allOperations(stageID: "rename-users").filter { $0.result == .applied }.count
        #expect(renamedLater > 0)
        #expect(renamedNow == 0)
        // The rest of the run's writes vary a little (the realistic profile's transient failures are retried).
        #expect(later.writeUnits - now.writeUnits >= renamedLater - 5, "\(later.writeUnits) vs \(now.writeUnits) write units")
        // The ID map holds the UPN the user has, and the target has it.
        let entries = try await nowStore.idMapEntries().filter { $0.objectType == .user }
        #expect(entries.contains { $0.naturalKey?.hasSuffix("@contoso.com") == true })
        let users = try await nowStore.allOperations(stageID: "users").count
        print(
            "write units: \(later.writeUnits) with renames, \(now.writeUnits) without (\(renamedLater) renames saved; \(users) user operations)"
        )
    }
}

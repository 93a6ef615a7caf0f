import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatTestSupport
import Testing

@testable import LifeboatEngine

/// A resume that finds `adminUnits.members` writes in flight looks each up in its unit's member list: one listing per
/// unit and settling round serves all of that unit's look-ups (each used to list the whole unit), and a member the list
/// does not show is written again only after the list lag was waited out, as for the other kinds (users, groups, apps).
@Suite struct AdminUnitSettlingTests {
    static let stageID = "admin-unit-members"

    @Test func oneListingPerUnitAndRoundAndAMissWaitsOutTheListLag() async throws {
        let drill = try await Drill("au-settling")
        defer { drill.directory.remove() }
        #expect(try await drill.executor().run() == .completed)

        // Every member write of the stage back in flight, as if the process died before their results were recorded;
        // one member of the first unit is not in the target (its write never landed).
        let operations = try await drill.store.allOperations(stageID: Self.stageID).filter { $0.result == .applied }.map(\.planned)
        let units = Dictionary(grouping: operations, by: \.sourceID)
        #expect(units.count == 2 && operations.count > 6)
        let idMap = IDMap(try await drill.store.idMapEntries())
        let lost = try #require(operations.first)
        let lostUnit = try #require(idMap.newID(for: lost.sourceID))
        let lostMember = try #require(idMap.newID(for: lost.detail["member"]?.stringValue ?? ""))
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        _ = try await graph.send(GraphRequest("DELETE", "/directory/administrativeUnits/\(lostUnit)/members/\(lostMember)/$ref"))
        #expect(!(await drill.tenant.relationship("members", of: lostUnit)).contains(lostMember))
        try await drill.store.recordIntents(operations.map(\.key), stageID: Self.stageID, simulatedSeconds: nil)
        try await drill.store.setStageStatus(Self.stageID, .running, message: "resumed", simulatedSeconds: nil)
        try await drill.store.setRunStatus(.running, message: "resumed", simulatedSeconds: nil)

        let log = RequestLog(FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        var options = ExecutorOptions(outputDirectory: drill.directory.url)
        options.gates = .autoApprove(by: "tester")
        options.concurrency = 2
        options.windowPerSlot = 2
        let resumed = Executor(
            runbook: drill.runbook, snapshot: drill.snapshot,
            graph: GraphClient(baseURL: FakeTenantTransport.baseURL, transport: log, clock: drill.clock), store: drill.store,
            mode: .tabletop, options: options, simulatedClock: drill.clock, simulatedEpoch: VirtualClock.epoch)
        #expect(try await resumed.run() == .completed)

        let rounds = 1 + DisplayNameLookup.settleDelays.count
        for source in units.keys {
            let unit = try #require(idMap.newID(for: source))
            let listings = log.sent.filter { $0.method == "GET" && $0.url.contains("/administrativeUnits/\(unit)/members") }
            // The unit that misses a member is listed once per round; the other once, for all of its look-ups.
            #expect(listings.count == (unit == lostUnit ? rounds : 1), "unit \(unit): \(listings.count) listings")
        }
        // Only the lost member is written again, once, after the lag (2+4+8+16+30 s) passed on the simulated clock.
        let writes = log.sent.filter { $0.method == "POST" && $0.url.contains("/administrativeUnits/") }
        #expect(writes.count == 1)
        let write = try #require(writes.first)
        #expect(write.url.contains(lostUnit))
        let firstListing = try #require(
            log.sent.first { $0.method == "GET" && $0.url.contains("/administrativeUnits/\(lostUnit)/members") })
        #expect(write.at.timeIntervalSince(firstListing.at) >= DisplayNameLookup.settleDelays.reduce(0, +))
        #expect((await drill.tenant.relationship("members", of: lostUnit)).contains(lostMember))
        #expect(try await drill.store.operationCounts(stageID: Self.stageID)[.sent, default: 0] == 0)
    }
}

import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Synchronization
import Testing

@testable import LifeboatEngine

/// Every request the executor sent, in the order sent, with the simulated time it was sent at.
final class RequestLog: HTTPTransport {
    struct Entry: Sendable {
        var sequence: Int
        var method: String
        /// The URL with its percent-encoding undone (a `$filter` reads as written).
        var url: String
        var userPrincipalName: String?
        var at: Date
    }

    let inner: FakeTenantTransport
    let clock: VirtualClock
    private let entries = Mutex<[Entry]>([])

    init(_ inner: FakeTenantTransport, clock: VirtualClock) {
        self.inner = inner
        self.clock = clock
    }

    var carriesJSONValues: Bool { inner.carriesJSONValues }

    var sent: [Entry] { entries.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let body = request.json ?? request.body.flatMap { try? JSONCoding.decode($0) }
        let at = clock.instant
        entries.withLock {
            $0.append(
                Entry(
                    sequence: $0.count, method: request.method, url: request.url.removingPercentEncoding ?? request.url,
                    userPrincipalName: body?["userPrincipalName"]?.stringValue, at: at))
        }
        return try await inner.send(request)
    }
}

/// A resume after a crash that left writes in flight (`sent`): each is looked up, waiting out Graph's list lag before it
/// is taken as absent (FirstContactTests' `LostCreateThenFailedLookupTests` holds that rule), but the stage's other
/// writes do not wait for those look-ups: only the unsettled operations themselves do.
@Suite struct ResumeSettlingTests {
    static let runbook = """
        lifeboat: 1
        name: users-only
        stages:
          - id: users
            kind: users.create
            title: Recreate users
            options:
              upnDomainMap:
                ${snapshot.initialDomain}: ${target.initialDomain}
              otherDomainsTo: ${target.initialDomain}

        """

    /// A run of the users stage killed with `inFlight` writes sent, of which the first `landed` reached the tenant.
    static func crashed(_ name: String, inFlight: Int, landed: Int) async throws -> (
        drill: Drill, unsettled: [PlannedOperation], planned: [PlannedOperation]
    ) {
        let directory = try TemporaryDirectory(name + "-runbook")
        let path = directory.path("users-only.yaml")
        try Data(runbook.utf8).write(to: URL(fileURLWithPath: path))
        let drill = try await Drill(name, runbook: path)
        directory.remove()
        let stage = try #require(Executor.prepare(drill.runbook, snapshot: drill.snapshot).first)
        try await drill.store.setStageStatus("users", .running, message: "started", simulatedSeconds: nil)
        try await drill.store.insertPlanned(stage.plan.operations, stageID: "users")
        let planned = stage.plan.operations.filter { $0.skip == nil }
        let sent = Array(planned.prefix(inFlight))
        try await drill.store.recordIntents(sent.map(\.key), stageID: "users", simulatedSeconds: nil)
        // The tenant applied the first `landed` of them; the process died before any response was recorded.
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        for op in sent.prefix(landed) {
            let body: JSONValue = [
                "accountEnabled": true, "displayName": .string(op.displayName), "mailNickname": .string("landed\(op.sourceID.prefix(8))"),
                "userPrincipalName": .string(op.naturalKey ?? ""), "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
            ]
            _ = try await graph.send(GraphRequest("POST", "/users", body: body))
        }
        return (drill, Array(sent.dropFirst(landed)), planned)
    }

    func resume(_ drill: Drill, log: RequestLog) async throws -> RunOutcome {
        var options = ExecutorOptions(outputDirectory: drill.directory.url)
        options.gates = .autoApprove(by: "tester")
        options.concurrency = 2
        options.windowPerSlot = 2
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: log, clock: drill.clock)
        return try await Executor(
            runbook: drill.runbook, snapshot: drill.snapshot, graph: graph, store: drill.store, mode: .tabletop, options: options,
            simulatedClock: drill.clock, simulatedEpoch: VirtualClock.epoch
        ).run()
    }

    @Test func theStagesOtherWritesGoOnWhileTheWritesInFlightAreLookedUp() async throws {
        let (drill, unsettled, planned) = try await Self.crashed("settling", inFlight: 4, landed: 2)
        defer { drill.directory.remove() }
        let log = RequestLog(FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        #expect(try await resume(drill, log: log) == .completed)
        let sent = log.sent

        let unsettledUPNs = Set(unsettled.compactMap { $0.naturalKey?.lowercased() })
        let inFlightKeys = Set(planned.prefix(4).map(\.key))
        func isLookUp(_ entry: RequestLog.Entry, of upn: String) -> Bool {
            entry.method == "GET" && entry.url.lowercased().contains("userprincipalname eq '\(upn)'")
        }
        let lastLookUp = try #require(sent.last { entry in unsettledUPNs.contains { isLookUp(entry, of: $0) } })
        // The first write of an operation that was not in flight: sent before the look-ups of the unsettled ones ended,
        // and before Graph's list lag (2+4+8+16+30 s) had passed on the simulated clock.
        let otherUPNs = Set(planned.filter { !inFlightKeys.contains($0.key) }.compactMap { $0.naturalKey?.lowercased() })
        let firstOtherWrite = try #require(
            sent.first { $0.method == "POST" && otherUPNs.contains($0.userPrincipalName?.lowercased() ?? "") })
        #expect(firstOtherWrite.sequence < lastLookUp.sequence)
        let firstLookUp = try #require(sent.first { entry in unsettledUPNs.contains { isLookUp(entry, of: $0) } })
        let lag = DisplayNameLookup.settleDelays.reduce(0, +)
        #expect(firstOtherWrite.at.timeIntervalSince(firstLookUp.at) < lag)

        // Each unsettled write is written again once, and only after its look-ups waited out the list lag.
        for upn in unsettledUPNs {
            let writes = sent.filter { $0.method == "POST" && $0.userPrincipalName?.lowercased() == upn }
            #expect(writes.count == 1, "\(upn): \(writes.count) writes")
            let lookUps = sent.filter { isLookUp($0, of: upn) }
            let write = try #require(writes.first)
            #expect(lookUps.filter { $0.sequence < write.sequence }.count >= 1 + DisplayNameLookup.settleDelays.count)
            #expect(write.at.timeIntervalSince(try #require(lookUps.first).at) >= lag)
        }
        // The writes that landed before the crash are adopted, never sent again.
        for op in planned.prefix(2) {
            #expect(!sent.contains { $0.method == "POST" && $0.userPrincipalName?.lowercased() == op.naturalKey?.lowercased() })
        }
        let records = Dictionary(uniqueKeysWithValues: try await drill.store.allOperations(stageID: "users").map { ($0.planned.key, $0) })
        for op in planned.prefix(2) { #expect(records[op.key]?.result == .adopted) }
        for op in unsettled { #expect(records[op.key]?.result == .created) }

        // One user per planned operation, none twice; the ID map holds every one of them.
        let upns = await drill.tenant.objects(ofType: "user").compactMap { $0["userPrincipalName"]?.stringValue?.lowercased() }
        #expect(upns.count == Set(upns).count)
        #expect(Set(upns).isSuperset(of: planned.compactMap { $0.naturalKey?.lowercased() }))
        let mapped = Set(try await drill.store.idMapEntries().map(\.oldID))
        #expect(mapped.isSuperset(of: planned.map(\.sourceID)))
    }

    @Test func writesInFlightThatAllLandedAreAdoptedOnceWhileTheRestIsWritten() async throws {
        let (drill, unsettled, planned) = try await Self.crashed("settled", inFlight: 6, landed: 6)
        defer { drill.directory.remove() }
        #expect(unsettled.isEmpty)
        let log = RequestLog(FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        #expect(try await resume(drill, log: log) == .completed)
        let landed = Set(planned.prefix(6).compactMap { $0.naturalKey?.lowercased() })
        #expect(!log.sent.contains { $0.method == "POST" && landed.contains($0.userPrincipalName?.lowercased() ?? "") })
        let upns = await drill.tenant.objects(ofType: "user").compactMap { $0["userPrincipalName"]?.stringValue?.lowercased() }
        #expect(upns.count == Set(upns).count)
        #expect(upns.count == planned.count)
        #expect(try await drill.store.operationCounts(stageID: "users")[.sent, default: 0] == 0)
    }

    /// Look-ups that start together wait out the list lag together: two unsettled writes cost the simulated clock one
    /// lag, not two (a simulated wait is a deadline, not an amount added per waiter).
    @Test func concurrentLookUpsShareTheirWaitOnTheSimulatedClock() async throws {
        let (drill, unsettled, _) = try await Self.crashed("shared-wait", inFlight: 2, landed: 0)
        defer { drill.directory.remove() }
        #expect(unsettled.count == 2)
        let log = RequestLog(FakeTenantTransport(tenant: drill.tenant), clock: drill.clock)
        let before = drill.clock.waited[.retry, default: 0]
        #expect(try await resume(drill, log: log) == .completed)
        let lag = DisplayNameLookup.settleDelays.reduce(0, +)
        // Each user is looked up by its planned UPN, then by its original one: two lags one after the other, which the two
        // operations share (≈ 2 lags); waits added per waiter would make it 4.
        let lookUps = log.sent.filter { $0.method == "GET" && $0.url.contains("userPrincipalName eq") }.count
        #expect(lookUps == unsettled.count * 2 * (1 + DisplayNameLookup.settleDelays.count))
        #expect(drill.clock.waited[.retry, default: 0] - before < 3 * lag)
    }
}

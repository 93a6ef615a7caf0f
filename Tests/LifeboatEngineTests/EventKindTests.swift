import Foundation
import LifeboatEngine
import LifeboatTestSupport
import Testing

@Suite struct EventKindTests {
    /// Every kind reads back from the text it is stored as, so checkpoints written before the typed vocabulary read the same.
    @Test(arguments: [
        "run.started", "run.resumed", "run.running", "run.waiting", "run.done", "run.failed", "run.pending", "run.stopped", "run.runbook-changed",
        "snapshot.signature", "readiness.assessed", "readiness.finding", "preflight.assessed", "stage.planned", "stage.running", "stage.done",
        "stage.failed", "stage.waiting", "stage.pending", "operations.sent", "operations.recorded", "operations.retry", "operations.reconciling",
        "operation.adopted", "operation.failed", "gate.waiting", "gate.approved", "gate.decision", "followup.resolved", "idmap.exported",
        "securityDefaults.disabled", "tenant.recorded", "domain.txt", "domain.held", "scenario.loaded", "scenario.setup", "scenario.injected",
        "scenario.recovered", "tabletop.throttling-limits", "throttle.429",
    ])
    func storedTextRoundTrips(_ text: String) {
        let kind = EventKind(text)
        #expect(kind.rawValue == text)
        if case .other = kind { Issue.record("\(text) is a kind this version writes and must know") }
    }

    @Test func interpolatedKindsCarryTheirStatus() {
        #expect(EventKind("run.failed") == .run(.failed))
        #expect(EventKind("stage.running") == .stage(.running))
        #expect(EventKind("run.started") == .runStarted)
        #expect(EventKind("throttle.503") == .throttle("503"))
        #expect(EventKind("run.exploded") == .other("run.exploded"))
        #expect(EventKind("something.new").rawValue == "something.new")
    }

    /// What the executor and the checkpoint write is what a reader switching over the vocabulary sees.
    @Test func aRunsLogReadsAsTypedKinds() async throws {
        let directory = try TemporaryDirectory("event-kinds")
        defer { directory.remove() }
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        try await store.startRun(RunRecord(
            id: "r", mode: .tabletop, runbookPath: "r.yaml", runbookName: "r", runbookSHA256: "0", snapshotPath: "s", snapshotManifestSHA256: "0",
            sourceTenantId: "t", snapshotCapturedAt: "2026-01-01T00:00:00Z", parameters: [:], target: "fake", targetTenantId: nil, fakeStatePath: nil,
            concurrency: 1, toolVersion: "test", operatorName: "tester", host: "test", startedAt: "2026-01-01T00:00:00Z"),
            stages: [("one", "verify", "One")], simulatedSeconds: nil)
        _ = try await store.requestGate("one", instructions: "check", simulatedSeconds: nil)
        #expect(try await store.gate("one")?.status == .waiting)
        #expect(try await store.approveGate("one", by: "Ada", note: nil, simulatedSeconds: nil))
        #expect(try await store.gate("one")?.status == .approved)
        try await store.setStageStatus("one", .done, message: "done", simulatedSeconds: nil)
        try await store.setRunStatus(.failed, message: "failed", simulatedSeconds: nil)
        try await store.append(.snapshotSignature, message: "not signed", simulated: nil)
        let kinds = try await store.events().map(\.eventKind)
        #expect(kinds.starts(with: [.runStarted]))
        for expected: EventKind in [.gateWaiting, .gateApproved, .stage(.done), .run(.failed), .snapshotSignature] {
            #expect(kinds.contains(expected), "\(expected) missing from \(kinds)")
        }
        #expect(try await store.eventDetails(.snapshotSignature).map(\.message) == ["not signed"])
    }
}

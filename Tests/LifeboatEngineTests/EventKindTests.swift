import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

@testable import LifeboatEngine

@Suite struct EventKindTests {
    /// One event of every case, with payloads that exercise the words a message is read back from.
    static let everyCase: [RunEvent] = [
        .runStarted(mode: .tabletop, runbookName: "Rebuild on a new tenant", operatorName: "Ada Lovelace", host: "drill-host"),
        .runStarted(mode: .dryRun, runbookName: "r", operatorName: "o", host: "h"),
        .runResumed(operatorName: "Grace on call", host: "laptop-2"),
        .runStatus(.failed, note: "stage users failed: 3 operations failed"),
        .runStatus(.pending, note: "stopped by the operator during stage users"),
        .runStopped(stageID: "users"),
        .runStopped(stageID: nil),
        .runbookChanged(fromSHA256: "aaa", toSHA256: "bbb"),
        .snapshotSignature(statement: "signed by contoso-backup (verified)"),
        .readinessAssessed(runbook: "Rebuild", snapshotCapturedAt: "2026-01-01T00:00:00Z", tally: "1 critical, 2 warnings, 0 info"),
        .readinessFinding(
            RecordedFinding(
                severity: "critical", kind: "clientSecrets", summary: "2 apps have client secrets", fix: "issue new ones",
                objectCount: 2,
                objects: [
                    .init(type: "application", id: "a1", name: "Payroll", note: nil),
                    .init(type: "application", id: "a2", name: "HR", note: "expired"),
                ])),
        .readinessFinding(
            RecordedFinding(
                severity: "warning", kind: "permissionMissing", summary: "no Domain.ReadWrite.All", fix: "grant it",
                objectCount: 0, objects: [], stages: ["domains.add"])),
        .preflightAssessed(blocking: 0, findings: 0),
        .preflightAssessed(blocking: 1, findings: 3),
        .stageStatus(stageID: "users", .running, note: "started"),
        .stageStatus(stageID: "users", .done, note: "done: 12 created"),
        .stagePlanned(stageID: "users", operations: 12),
        .operationsSent(stageID: "users", keys: ["users:1", "users:2"]),
        .operationsRecorded(stageID: "users", results: ["created": 10, "failed": 1, "retry": 1]),
        .operationsRetry(stageID: "users", operations: 4),
        .operationsReconciling(stageID: "users", operations: 2),
        .operationAdopted(stageID: "groups", operationKey: "groups:g1", displayName: "Sales (EMEA)", newID: "n1"),
        .operationAdopted(stageID: "groups", operationKey: "groups:g2", displayName: "Finance", newID: nil),
        .operationFailed(
            stageID: "users", operationKey: "users:3",
            summary: OperationFailure.summary(
                displayName: "Ada: admin", code: "Request_BadRequest", message: "bad: value", requestID: "r-1")),
        .gateWaiting(stageID: "review"),
        .gateApproved(stageID: "review", by: "Ada", note: nil),
        .gateApproved(stageID: "review", by: "Ada", note: "checked the policies"),
        .gateDecision(stageID: "review", text: "Ada approved the gate after 45 min of people's work"),
        .followUpsResolved(stageID: "ca.enable", count: 2, category: "ca-report-only", sourceID: "policy-1"),
        .idMapExported(stageID: "export", rows: 42, path: "/tmp/drill/idmap at night.csv"),
        .securityDefaultsDisabled(stageID: "sd"),
        .tenantRecorded(stageID: "tenant", tenantID: "t-1", initialDomain: "contosodr.onmicrosoft.com"),
        .domainTXT(stageID: "domains", domain: "contoso.com", record: "MS=ms123 at night"),
        .domainHeld(stageID: "domains", domain: "contoso.com", code: "DomainVerificationConflict"),
        .scenarioLoaded(summary: "scenario storm (storm.yaml): throttling storm at users"),
        .scenarioSetup(objects: 250),
        .scenarioInjected(stageID: nil, eventKey: "event-0", text: "storm (at the start): Graph's quotas shrink to 25% for 30 min"),
        .scenarioInjected(stageID: "users", eventKey: "interactive:users", text: "injected by Ada at gate users: a storm"),
        .scenarioRecovered(
            stageID: "users", eventKey: "event-1", text: "kill: the operator is back on a working machine after 2 h and resumes"),
        .throttlingLimits([ThrottlingLimitFigure(scope: "Tenant_Application/Writes", label: "writes per app", waited: 12.5, lowerBound: 10)]
        ),
        .throttled(
            cause: "429", stageID: "users", note: "Graph answered 429 on /users: waiting 30 s", retryAfterSeconds: 30, endpoint: "/users"),
        .throttled(cause: "503", stageID: nil, note: "Graph answered 503", retryAfterSeconds: nil, endpoint: nil),
    ]

    /// Every case is written to a checkpoint and read back equal, under the kind text it always had.
    @Test func everyCaseRoundTripsThroughACheckpoint() async throws {
        let directory = try TemporaryDirectory("run-events")
        defer { directory.remove() }
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        for event in Self.everyCase { try await store.append(event, simulated: 1) }
        let read = try await store.events()
        #expect(read.count == Self.everyCase.count)
        for (record, written) in zip(read, Self.everyCase) {
            #expect(record.event == written)
            #expect(record.kind == written.kind.rawValue && record.message == written.message && record.detail == written.detail)
            if case .unrecognized = record.event { Issue.record("\(record.kind) read back as unrecognized") }
        }
    }

    /// Rows exactly as the version before the typed vocabulary wrote them (kind, stage, operation key, message, detail:
    /// the writers' interpolations, with the values of the Contoso tabletop) read as the right cases.
    @Test func rowsOfAnOlderCheckpointReadTyped() async throws {
        let directory = try TemporaryDirectory("old-events")
        defer { directory.remove() }
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        let finding: JSONValue = [
            "fix": "issue new secrets", "kind": "clientSecrets", "objectCount": 1, "severity": "warning",
            "summary": "1 app has client secrets",
            "objects": [["id": "app-1", "name": "Payroll", "type": "application"]],
        ]
        let limits: JSONValue = [
            "limits": [["scope": "Tenant_Application/Writes", "label": "Writes per app", "waited": 3, "lowerBound": 2]]
        ]
        let rows: [(kind: String, stage: String?, key: String?, message: String, detail: JSONValue?, expected: RunEvent)] = [
            (
                "run.started", nil, nil, "tabletop run of Rebuild Contoso on a new tenant started by drill-operator on drill-host",
                nil,
                .runStarted(
                    mode: .tabletop, runbookName: "Rebuild Contoso on a new tenant", operatorName: "drill-operator", host: "drill-host")
            ),
            (
                "readiness.assessed", nil, nil,
                "Readiness of Rebuild Contoso with the snapshot captured 2026-01-01T00:00:00Z: 0 critical, 1 warning, 0 info",
                nil,
                .readinessAssessed(
                    runbook: "Rebuild Contoso", snapshotCapturedAt: "2026-01-01T00:00:00Z", tally: "0 critical, 1 warning, 0 info")
            ),
            (
                "readiness.finding", nil, nil, "warning [clientSecrets] 1 app has client secrets", finding,
                .readinessFinding(
                    RecordedFinding(
                        severity: "warning", kind: "clientSecrets", summary: "1 app has client secrets", fix: "issue new secrets",
                        objectCount: 1, objects: [.init(type: "application", id: "app-1", name: "Payroll", note: nil)]))
            ),
            ("stage.planned", "users", nil, "25 operations planned", nil, .stagePlanned(stageID: "users", operations: 25)),
            ("stage.running", "users", nil, "started", nil, .stageStatus(stageID: "users", .running, note: "started")),
            (
                "operations.sent", "users", nil, "2 writes about to be sent", ["users:a", "users:b"],
                .operationsSent(stageID: "users", keys: ["users:a", "users:b"])
            ),
            (
                "operations.recorded", "users", nil, "1 adopted, 1 created", nil,
                .operationsRecorded(stageID: "users", results: ["adopted": 1, "created": 1])
            ),
            (
                "operation.adopted", "users", "users:a",
                "Adele Vance already existed in the target (new-1); adopted instead of written again", nil,
                .operationAdopted(stageID: "users", operationKey: "users:a", displayName: "Adele Vance", newID: "new-1")
            ),
            (
                "operation.failed", "users", "users:b", "Bob: Request_BadRequest: invalid [request-id 42]", nil,
                .operationFailed(stageID: "users", operationKey: "users:b", summary: "Bob: Request_BadRequest: invalid [request-id 42]")
            ),
            ("gate.waiting", "review", nil, "waiting for approval", nil, .gateWaiting(stageID: "review")),
            (
                "gate.approved", "review", nil, "approved by drill-operator (tabletop auto-approval)", nil,
                .gateApproved(stageID: "review", by: "drill-operator (tabletop auto-approval)", note: nil)
            ),
            ("run.failed", nil, nil, "1 operation failed", nil, .runStatus(.failed, note: "1 operation failed")),
            (
                "run.resumed", nil, nil, "resumed by drill-operator on drill-host", nil,
                .runResumed(operatorName: "drill-operator", host: "drill-host")
            ),
            (
                "operations.reconciling", "users", nil,
                "1 writes were in flight when the last run stopped; looking them up before retrying", nil,
                .operationsReconciling(stageID: "users", operations: 1)
            ),
            (
                "domain.txt", "domains", nil, "publish TXT MS=ms1 at contoso.com (TTL 3600) so that contoso.com can be verified", nil,
                .domainTXT(stageID: "domains", domain: "contoso.com", record: "MS=ms1")
            ),
            (
                "scenario.injected", nil, "event-0", "storm (at the start): quotas shrink", nil,
                .scenarioInjected(stageID: nil, eventKey: "event-0", text: "storm (at the start): quotas shrink")
            ),
            (
                "tabletop.throttling-limits", nil, nil, "simulated waiting per throttling limit in this session", limits,
                .throttlingLimits([
                    ThrottlingLimitFigure(scope: "Tenant_Application/Writes", label: "Writes per app", waited: 3, lowerBound: 2)
                ])
            ),
            (
                "throttle.429", "users", nil, "throttled", nil,
                .throttled(cause: "429", stageID: "users", note: "throttled", retryAfterSeconds: nil, endpoint: nil)
            ),
        ]
        for row in rows {
            try await store.appendEvent(
                kind: row.kind, stageID: row.stage, operationKey: row.key, message: row.message, detail: row.detail, simulated: nil)
        }
        for (record, row) in zip(try await store.events(), rows) {
            #expect(record.event == row.expected, "\(row.kind)")
            #expect(record.event.message == row.message)
        }
    }

    /// A kind this version does not know, or a row that does not read as its kind, is kept as stored: never a crash.
    @Test func unknownKindsAndUnreadableRowsAreUnrecognized() async throws {
        let directory = try TemporaryDirectory("unknown-events")
        defer { directory.remove() }
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        try await store.appendEvent(
            kind: "something.new", stageID: "s", operationKey: "k", message: "from a newer writer", detail: ["x": 1], simulated: nil)
        try await store.appendEvent(kind: "run.exploded", message: "not a status", simulated: nil)
        try await store.appendEvent(kind: "stage.planned", stageID: "users", message: "many operations planned", simulated: nil)
        try await store.appendEvent(kind: "gate.waiting", message: "waiting for approval", simulated: nil)  // no stage
        try await store.appendEvent(
            kind: "operations.sent", stageID: "users", message: "2 writes about to be sent", detail: "not keys", simulated: nil)
        let events = try await store.events().map(\.event)
        #expect(
            events.first
                == .unrecognized(kind: "something.new", stageID: "s", operationKey: "k", message: "from a newer writer", detail: ["x": 1]))
        for event in events {
            guard case .unrecognized = event else {
                Issue.record("\(event) should read as unrecognized")
                continue
            }
        }
        #expect(
            events.map(\.kind) == [
                .unrecognized("something.new"), .unrecognized("run.exploded"), .stagePlanned, .gateWaiting, .operationsSent,
            ])
    }

    /// Every kind reads back from the text it is stored as, so SQL filters (``CheckpointStore/eventDetails(_:)``) name the
    /// same rows as the typed cases.
    @Test(arguments: [
        "run.started", "run.resumed", "run.running", "run.waiting", "run.done", "run.failed", "run.pending", "run.stopped",
        "run.runbook-changed",
        "snapshot.signature", "readiness.assessed", "readiness.finding", "preflight.assessed", "stage.planned", "stage.running",
        "stage.done",
        "stage.failed", "stage.waiting", "stage.pending", "operations.sent", "operations.recorded", "operations.retry",
        "operations.reconciling",
        "operation.adopted", "operation.failed", "gate.waiting", "gate.approved", "gate.decision", "followup.resolved", "idmap.exported",
        "securityDefaults.disabled", "tenant.recorded", "domain.txt", "domain.held", "scenario.loaded", "scenario.setup",
        "scenario.injected",
        "scenario.recovered", "tabletop.throttling-limits", "throttle.429",
    ])
    func storedTextRoundTrips(_ text: String) {
        let kind = EventKind(text)
        #expect(kind.rawValue == text)
        if case .unrecognized = kind { Issue.record("\(text) is a kind this version writes and must know") }
    }

    @Test func everyKindTextIsWrittenBySomeCase() {
        let written = Set(Self.everyCase.map(\.kind.rawValue))
        for text in [
            "run.started", "run.resumed", "run.failed", "run.pending", "run.stopped", "run.runbook-changed", "snapshot.signature",
            "readiness.assessed", "readiness.finding", "preflight.assessed", "stage.planned", "stage.running", "stage.done",
            "operations.sent", "operations.recorded", "operations.retry", "operations.reconciling", "operation.adopted", "operation.failed",
            "gate.waiting", "gate.approved", "gate.decision", "followup.resolved", "idmap.exported", "securityDefaults.disabled",
            "tenant.recorded", "domain.txt", "domain.held", "scenario.loaded", "scenario.setup", "scenario.injected", "scenario.recovered",
            "tabletop.throttling-limits", "throttle.429",
        ] {
            #expect(written.contains(text), "no case in everyCase is stored as \(text)")
        }
    }

    /// A whole tabletop of the Contoso example (every stage kind the shipped runbook uses): every row it writes reads
    /// back as its typed case, none as unrecognized.
    @Test func aTabletopOfTheExampleWritesOnlyTypedEvents() async throws {
        let drill = try await Drill("typed-events")
        defer { drill.directory.remove() }
        #expect(try await drill.executor().run() == .completed)
        let records = try await drill.store.events()
        #expect(records.count > 20)
        for record in records {
            if case .unrecognized = record.event { Issue.record("\(record.kind) \(record.message) reads as unrecognized") }
        }
        let kinds = Set(records.map { $0.event.kind })
        for kind: EventKind in [
            .runStarted, .stage(.running), .stage(.done), .stagePlanned, .operationsSent, .operationsRecorded, .gateWaiting,
            .gateApproved, .run(.done),
        ] {
            #expect(kinds.contains(kind), "\(kind) missing")
        }
    }

    /// What the executor and the checkpoint write is what a reader switching over the vocabulary sees.
    @Test func aRunsLogReadsAsTypedEvents() async throws {
        let directory = try TemporaryDirectory("event-kinds")
        defer { directory.remove() }
        let store = try CheckpointStore(path: directory.path("state.sqlite"))
        try await store.startRun(
            RunRecord(
                id: "r", mode: .tabletop, runbookPath: "r.yaml", runbookName: "r", runbookSHA256: "0", snapshotPath: "s",
                snapshotManifestSHA256: "0",
                sourceTenantId: "t", snapshotCapturedAt: "2026-01-01T00:00:00Z", parameters: [:], target: "fake", targetTenantId: nil,
                fakeStatePath: nil,
                concurrency: 1, toolVersion: "test", operatorName: "tester", host: "test", startedAt: "2026-01-01T00:00:00Z"),
            stages: [("one", "verify", "One")], simulatedSeconds: nil)
        _ = try await store.requestGate("one", instructions: "check", simulatedSeconds: nil)
        #expect(try await store.approveGate("one", by: "Ada", note: nil, simulatedSeconds: nil))
        try await store.setStageStatus("one", .done, message: "done", simulatedSeconds: nil)
        try await store.setRunStatus(.failed, message: "failed", simulatedSeconds: nil)
        try await store.append(.snapshotSignature(statement: "not signed"), simulated: nil)
        let events = try await store.events().map(\.event)
        #expect(
            events == [
                .runStarted(mode: .tabletop, runbookName: "r", operatorName: "tester", host: "test"), .gateWaiting(stageID: "one"),
                .gateApproved(stageID: "one", by: "Ada", note: nil), .stageStatus(stageID: "one", .done, note: "done"),
                .runStatus(.failed, note: "failed"),
                .snapshotSignature(statement: "not signed"),
            ])
        #expect(try await store.eventDetails(.snapshotSignature).map(\.message) == ["not signed"])
    }
}

import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Synchronization
import Testing

/// A clock that moves by a fixed step on every reading, and jumps when a test says time passes (a gate, a stop).
final class SteppingClock: Sendable {
    private let current: Mutex<Date>
    let step: Double

    init(start: Date, step: Double) {
        current = Mutex(start)
        self.step = step
    }

    func now() -> Date {
        current.withLock { date in
            let reading = date
            date = date.addingTimeInterval(step)
            return reading
        }
    }

    func advance(_ seconds: Double) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

/// A transport in front of the fake tenant that refuses chosen writes the way Graph does, with a code and a request-id.
struct RefusingTransport: HTTPTransport {
    let inner: FakeTenantTransport
    /// Writes whose body contains this text are refused.
    let bodyContains: String
    let status: Int
    let code: String
    let message: String
    let requestID: String

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        if request.isWrite, let body = request.body, String(decoding: body, as: UTF8.self).contains(bodyContains) {
            let error: JSONValue = [
                "error": [
                    "code": .string(code), "message": .string(message),
                    "innerError": ["request-id": .string(requestID), "date": "2026-11-22T08:31:00"],
                ]
            ]
            return HTTPResponse(
                status: status, headers: ["Content-Type": "application/json", "request-id": requestID],
                body: try JSONCoding.encode(error))
        }
        return try await inner.send(request)
    }
}

/// An in-process tabletop with everything fixed (clock, ids, run record, concurrency 1), so its report is the same bytes
/// on every machine.
struct ReportDrill {
    static let start = Date(timeIntervalSince1970: 1_795_334_400)  // 2026-11-22T08:00:00Z
    static let generatedAt = Date(timeIntervalSince1970: 1_795_339_800)  // 2026-11-22T09:30:00Z

    let drill: TabletopDrill
    let clock: SteppingClock
    var directory: TemporaryDirectory { drill.directory }
    var snapshot: Snapshot { drill.snapshot }
    var runbook: Runbook { drill.runbook }
    var store: CheckpointStore { drill.store }
    var tenant: FakeTenant { drill.tenant }

    init(_ name: String, snapshot snapshotURL: URL = Fixtures.contoso) async throws {
        let clock = SteppingClock(start: Self.start, step: 0.25)
        self.clock = clock
        let tenant = try FakeTenant(
            stateFile: nil, tenantID: "7d3f1c2e-5b6a-4c8d-9e0f-112233445566", initialDomain: "contosodr.onmicrosoft.com", seed: 6)
        // The golden files describe a run of a frozen copy of the first shipped runbook, so that the shipped runbooks can grow.
        let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/golden-runbook.yaml").path
        drill = try await TabletopDrill(
            name, tenant: tenant, runbook: golden, snapshot: snapshotURL, parameters: [:],
            storeClock: { clock.now() },
            record: { record, runbook in
                record.id = "drill-2026-11-22"
                record.runbookPath = "Runbooks/rebuild-new-tenant.yaml"
                record.snapshotPath = "Examples/contoso"
                record.target = "fake tenant contosodr.onmicrosoft.com"
                record.concurrency = 1
                record.toolVersion = "0.1.0"
                record.operatorName = "ada"
                record.host = "dr-laptop-01"
                record.startedAt = "2026-11-22T08:00:00Z"
                record.objectiveSeconds = runbook.objective
            })
    }

    /// An executor with one write in flight; `refusing` makes matching writes fail like Graph would.
    func executor(gates: GatePolicy, refusing: RefusingTransport? = nil) -> Executor {
        drill.executor(gates: gates, concurrency: 1, transport: refusing, retry: RetryPolicy(initialBackoff: 0.001, maxBackoff: 0.01))
    }

    func refusing(_ text: String, status: Int = 400, code: String, message: String, requestID: String) -> RefusingTransport {
        RefusingTransport(
            inner: FakeTenantTransport(tenant: tenant), bodyContains: text, status: status, code: code, message: message,
            requestID: requestID)
    }

    func report() async throws -> RunReport {
        try await RunReport.build(from: store, generatedAt: Self.generatedAt)
    }

    /// The golden scenario: a pause at the tenant gate, a person's approval 30 minutes later, a user Graph refuses (the run
    /// stops), ten minutes to fix it, a resume by someone else, and a finished run.
    static func goldenRun() async throws -> ReportDrill {
        let drill = try await ReportDrill("golden")
        let paused = try await drill.executor(gates: .pause).run()
        #expect(paused == .pausedAtGate(stageID: "create-tenant", instructions: drill.runbook.stages[0].gate?.instructions ?? ""))
        drill.clock.advance(30 * 60)
        #expect(
            try await drill.store.approveGate(
                "create-tenant", by: "Ada Lovelace", note: "tenant contosodr created, app consented", simulatedSeconds: nil))
        drill.clock.advance(45)
        try await drill.store.recordResume(operatorName: "ada", host: "dr-laptop-01", simulatedSeconds: nil)
        let refused = drill.refusing(
            "rajesh.iyer", code: "Request_BadRequest",
            message: "The specified password does not comply with password complexity requirements.",
            requestID: "5e1f0c3a-77b2-4d51-9f0e-6a8b2c4d1e90")
        let failed = try await drill.executor(gates: .pause, refusing: refused).run()
        #expect(failed == .failed(stageID: "users", failedOperations: 1))
        drill.clock.advance(10 * 60)
        try await drill.store.recordResume(operatorName: "grace", host: "dr-laptop-02", simulatedSeconds: nil)
        #expect(try await drill.executor(gates: .pause).run() == .completed)
        return drill
    }
}

import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatRunbook
import LifeboatSnapshot

/// An in-process tabletop: a snapshot, a runbook loaded for a fake tenant, a checkpoint whose run is started, and the
/// simulated clock the tenant and the client share. The one drill set-up of the engine and report tests.
package struct TabletopDrill: Sendable {
    package let directory: TemporaryDirectory
    package let snapshot: Snapshot
    package let runbook: Runbook
    package let store: CheckpointStore
    package let tenant: FakeTenant
    /// The simulated clock of the tenant (when the drill made it) and of every client ``executor(gates:concurrency:dropEvery:transport:retry:)`` builds.
    package let clock: VirtualClock
    /// The checkpoint's path.
    package let statePath: String

    /// A drill named `name` (its run id, and its files' names in `directory`; a directory of its own when none is given).
    /// `runbook` names a shipped runbook or is an absolute path; `tenant` (with its `clock`) is another drill's or a
    /// prepared one, else a new tenant on a new simulated clock; `parameters` are the runbook's parameters file;
    /// `storeClock` times the checkpoint's events; `record` adjusts the run record (given the loaded runbook) before the run starts.
    package init(
        _ name: String, in directory: TemporaryDirectory? = nil, tenant: FakeTenant? = nil, clock shared: VirtualClock? = nil,
        runbook file: String = "rebuild-new-tenant.yaml", snapshot snapshotURL: URL = Fixtures.contoso,
        parameters: [String: String] = Fixtures.contosoParameters, storeClock: (@Sendable () -> Date)? = nil,
        record adjust: (inout RunRecord, Runbook) -> Void = { _, _ in }
    ) async throws {
        let directory = try directory ?? TemporaryDirectory(name)
        self.directory = directory
        snapshot = try Snapshot.load(from: snapshotURL)
        let clock = shared ?? VirtualClock()
        self.clock = clock
        let tenant =
            try tenant
            ?? FakeTenant(
                stateFile: directory.path("\(name).fake.sqlite"), initialDomain: "contosodr.onmicrosoft.com",
                clock: { clock.instant })
        self.tenant = tenant
        runbook = try Fixtures.loadRunbook(
            file.hasPrefix("/") ? URL(fileURLWithPath: file) : Fixtures.runbook(file), for: tenant,
            snapshot: snapshot, parameters: parameters)
        let statePath = directory.path("\(name).sqlite")
        self.statePath = statePath
        store = try storeClock.map { try CheckpointStore(path: statePath, clock: $0) } ?? CheckpointStore(path: statePath)
        var record = RunRecord(
            id: name, mode: .tabletop, runbookPath: file, runbookName: runbook.name, runbookSHA256: runbook.sha256,
            snapshotPath: snapshotURL.path, snapshotManifestSHA256: snapshot.manifestSHA256,
            sourceTenantId: snapshot.manifest.sourceTenantId, snapshotCapturedAt: snapshot.manifest.capturedAt, parameters: [:],
            target: "fake", targetTenantId: tenant.tenantID, fakeStatePath: nil, concurrency: 4, toolVersion: "test",
            operatorName: "tester", host: "test", startedAt: "2026-11-22T00:00:00Z")
        adjust(&record, runbook)
        try await store.startRun(record, stages: runbook.stages.map { ($0.id, $0.kind, $0.title) }, simulatedSeconds: nil)
    }

    /// An executor of the drill's run against its tenant (or through `transport`), its waits on the drill's clock.
    /// `dropEvery` loses every n-th response after the tenant applied the write.
    package func executor(
        gates: GatePolicy = .autoApprove(by: "tester"), concurrency: Int = 4, dropEvery: Int? = nil,
        transport: (any HTTPTransport)? = nil, retry: RetryPolicy = RetryPolicy()
    ) -> Executor {
        var options = ExecutorOptions(outputDirectory: directory.url)
        options.gates = gates
        options.concurrency = concurrency
        let transport = transport ?? FakeTenantTransport(tenant: tenant, dropResponses: dropEvery.map { DroppedResponses(every: $0) })
        // Waits (DNS polling, backoff) pass on a simulated clock, so no test sleeps for real.
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: transport, clock: clock, retry: retry)
        return Executor(runbook: runbook, snapshot: snapshot, graph: graph, store: store, mode: .tabletop, options: options)
    }
}

extension Fixtures {
    /// Loads a runbook for `tenant` the way the CLI does: the target's and the snapshot's built-in values, and
    /// `parameters` (the Contoso example's parameters file unless told otherwise).
    package static func loadRunbook(
        _ url: URL, for tenant: FakeTenant, snapshot: Snapshot,
        parameters: [String: String] = Fixtures.contosoParameters
    ) throws -> Runbook {
        try Runbook.load(
            contentsOf: url, catalog: StageCatalog.specs, fileParameters: parameters,
            builtins: [
                "target.initialDomain": tenant.initialDomain, "target.tenantId": tenant.tenantID,
                "snapshot.initialDomain": snapshot.manifest.sourceInitialDomain ?? "",
                "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId,
            ])
    }
}

import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// A checkpoint, a fake tenant and the Contoso example, for the resume rules of ``RunLauncher``. Every clock is
/// simulated: the checkpoint's, the tenant's and the client's.
private struct LaunchRig {
    let directory: TemporaryDirectory
    let snapshot: Snapshot
    let clock = VirtualClock()
    let tenant: FakeTenant
    /// The rig's own lock holder: its locks are released when the test ends.
    let locks = RunLocks()
    var statePath: String { directory.path("state.sqlite") }

    init(_ name: String) throws {
        directory = try TemporaryDirectory(name)
        snapshot = try Snapshot.load(from: Fixtures.contoso)
        let clock = clock
        tenant = try FakeTenant(
            stateFile: directory.path("fake.sqlite"), initialDomain: "contosodr.onmicrosoft.com", clock: { clock.instant })
    }

    func open(mode: RunMode = .tabletop, snapshot: Snapshot? = nil, locks: RunLocks? = nil) async throws(RunLaunchError) -> RunLauncher {
        let clock = clock
        return try await RunLauncher.open(
            statePath: statePath, mode: mode, snapshot: snapshot ?? self.snapshot, locks: locks ?? self.locks, clock: { clock.instant })
    }

    func runbook(_ url: URL = Fixtures.runbook("rebuild-new-tenant.yaml"), for tenant: FakeTenant? = nil) throws -> Runbook {
        try Fixtures.loadRunbook(url, for: tenant ?? self.tenant, snapshot: snapshot)
    }

    func request(_ runbook: Runbook, gates: GatePolicy, tenant: FakeTenant? = nil, signature: String = "not signed") -> RunLaunchRequest {
        let tenant = tenant ?? self.tenant
        var options = ExecutorOptions(outputDirectory: directory.url)
        options.gates = gates
        options.concurrency = 4
        let graph = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock)
        var request = RunLaunchRequest(
            runbook: runbook, runbookPath: "rebuild-new-tenant.yaml", snapshot: snapshot, snapshotPath: Fixtures.contoso.path,
            parameters: ["operator": "tester"],
            target: RunTarget(description: "fake tenant \(tenant.initialDomain)", tenantID: tenant.tenantID),
            graph: graph, executor: options, operatorName: "tester", toolVersion: "test")
        request.host = "test-host"
        request.runID = "run-1"
        request.startedAt = Date(timeIntervalSince1970: 1_800_000_000)
        request.inputs = [SnapshotSignatureStatement(signature)]
        return request
    }
}

extension CheckpointStore {
    fileprivate func count(_ kind: String) throws -> Int { try events().filter { $0.kind == kind }.count }
}

@Suite struct RunLauncherTests {
    @Test func aNewRunStartsWithItsRecordAndInputs() async throws {
        let rig = try LaunchRig("launch-new")
        let launcher = try await rig.open()
        #expect(launcher.isNewRun)
        #expect(launcher.parameters(["a": "b"]) == ["a": "b"])
        let launch = try await launcher.launch(rig.request(try rig.runbook(), gates: .pause))
        guard case .started(let run) = launch else { Issue.record("expected a new run, got \(launch)"); return }
        #expect(run.runbookChange == nil)
        let stored = try #require(try await launcher.store.runRecord())
        #expect(stored.record == run.record)
        #expect(stored.record.id == "run-1" && stored.record.mode == .tabletop && stored.record.concurrency == 4)
        #expect(stored.record.targetTenantId == rig.tenant.tenantID)
        #expect(stored.record.startedAt == "2027-01-15T08:00:00Z")
        #expect(try await launcher.store.count("snapshot.signature") == 1)
        #expect(try await launcher.store.count("run.resumed") == 0)
    }

    @Test func aPausedRunResumesAndItsInputsAreRecordedOnce() async throws {
        let rig = try LaunchRig("launch-resume")
        let runbook = try rig.runbook()
        let first = try await rig.open().launch(rig.request(runbook, gates: .pause))
        let paused = try await #require(first.launched).executor.run()
        guard case .pausedAtGate = paused else { Issue.record("expected a pause at a gate, got \(paused)"); return }

        let launcher = try await rig.open()
        #expect(launcher.existing?.status == .waiting)
        #expect(launcher.parameters(["more": "x"]) == ["operator": "tester", "more": "x"])
        // The resume is asked to record its inputs again (as the remote path once did): the launcher records them once.
        var again = rig.request(runbook, gates: .autoApprove(by: "tester"), signature: "verified on resume")
        again.runID = "run-2"
        let launch = try await launcher.launch(again)
        guard case .resumed(let run) = launch else { Issue.record("expected a resume, got \(launch)"); return }
        #expect(run.record.id == "run-1")
        #expect(run.runbookChange == nil)
        #expect(try await launcher.store.count("run.resumed") == 1)
        #expect(try await launcher.store.events().filter { $0.kind == "snapshot.signature" }.map(\.message) == ["not signed"])
        #expect(try await run.executor.run() == .completed)
    }

    @Test func aFinishedRunIsAlreadyCompleteAndNothingIsRecorded() async throws {
        let rig = try LaunchRig("launch-complete")
        let runbook = try rig.runbook()
        let first = try await rig.open().launch(rig.request(runbook, gates: .autoApprove(by: "tester")))
        #expect(try await #require(first.launched).executor.run() == .completed)

        let launcher = try await rig.open()
        let before = try await launcher.store.events().count
        let launch = try await launcher.launch(rig.request(runbook, gates: .autoApprove(by: "tester")))
        guard case .alreadyComplete(let record, let change) = launch else { Issue.record("expected a finished run, got \(launch)"); return }
        #expect(record.id == "run-1" && change == nil)
        #expect(launch.launched == nil)
        #expect(try await launcher.store.events().count == before)
    }

    @Test func aChangedRunbookIsRecordedAndTheRunResumes() async throws {
        let rig = try LaunchRig("launch-changed")
        let original = try rig.runbook()
        _ = try await #require(try await rig.open().launch(rig.request(original, gates: .pause)).launched).executor.run()

        let edited = rig.directory.url.appendingPathComponent("edited.yaml")
        try (try String(contentsOf: Fixtures.runbook("rebuild-new-tenant.yaml"), encoding: .utf8) + "\n# edited after the run started\n")
            .write(to: edited, atomically: true, encoding: .utf8)
        let changed = try rig.runbook(edited)
        #expect(changed.sha256 != original.sha256)
        let launcher = try await rig.open()
        let launch = try await launcher.launch(rig.request(changed, gates: .autoApprove(by: "tester")))
        guard case .resumed(let run) = launch else { Issue.record("expected a resume, got \(launch)"); return }
        #expect(run.runbookChange == RunbookChange(from: original.sha256, to: changed.sha256))
        let recorded = try await launcher.store.events().filter { $0.kind == "run.runbook-changed" }.map(\.message)
        #expect(recorded == ["runbook hash changed from \(original.sha256) to \(changed.sha256)"])
    }

    @Test func aResumeAgainstAnotherTenantIsRefusedBeforeAnythingIsRecorded() async throws {
        let rig = try LaunchRig("launch-other-target")
        _ = try await #require(try await rig.open().launch(rig.request(try rig.runbook(), gates: .pause)).launched).executor.run()

        let clock = rig.clock
        let other = try FakeTenant(
            stateFile: rig.directory.path("other.sqlite"), initialDomain: "otherdr.onmicrosoft.com", clock: { clock.instant })
        #expect(other.tenantID != rig.tenant.tenantID)
        let launcher = try await rig.open()
        let before = try await launcher.store.events().count
        #expect(throws: RunLaunchError.otherTarget(path: rig.statePath, recorded: rig.tenant.tenantID, reached: other.tenantID)) {
            try launcher.checkTarget(tenantID: other.tenantID)
        }
        await #expect(throws: RunLaunchError.otherTarget(path: rig.statePath, recorded: rig.tenant.tenantID, reached: other.tenantID)) {
            try await launcher.launch(rig.request(try rig.runbook(for: other), gates: .pause, tenant: other))
        }
        #expect(try await launcher.store.events().count == before)
        // The same tenant, named in other case, is the same target.
        try launcher.checkTarget(tenantID: rig.tenant.tenantID.uppercased())
    }

    @Test func aRunOfAnotherModeOrSnapshotIsRefused() async throws {
        let rig = try LaunchRig("launch-other-run")
        _ = try await rig.open().launch(rig.request(try rig.runbook(), gates: .pause))

        await #expect(throws: RunLaunchError.otherMode(path: rig.statePath, held: .tabletop, requested: .live)) {
            try await rig.open(mode: .live)
        }
        let copy = try Fixtures.copyContoso(into: rig.directory)
        try Fixtures.rewrite("groups.json", in: copy) { $0 }
        let other = try Snapshot.load(from: copy)
        #expect(other.manifestSHA256 != rig.snapshot.manifestSHA256)
        await #expect(
            throws: RunLaunchError.otherSnapshot(path: rig.statePath, held: rig.snapshot.manifestSHA256, given: other.manifestSHA256)
        ) {
            try await rig.open(snapshot: other)
        }
    }

    @Test func aStateThatIsNotACheckpointIsRefusedUnchanged() async throws {
        let rig = try LaunchRig("launch-not-checkpoint")
        let bytes = Data("not a database\n".utf8)
        try bytes.write(to: URL(fileURLWithPath: rig.statePath))
        await #expect {
            try await rig.open()
        } throws: { error in
            if case .notACheckpoint(let path, _) = error as? RunLaunchError { path == rig.statePath } else { false }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: rig.statePath)) == bytes)

        let folder = rig.directory.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        await #expect {
            try await RunLauncher.open(statePath: folder, mode: .tabletop, snapshot: rig.snapshot, locks: rig.locks)
        } throws: { error in
            if case .stateNotAFile(let path, _) = error as? RunLaunchError { path == folder } else { false }
        }
    }

    @Test func aRunHeldByAnotherLockHolderIsRefused() async throws {
        let rig = try LaunchRig("launch-locked")
        // Another holder of the same lock file (flock(2) locks are per open file, so a second holder in this process conflicts).
        var holder: RunLocks? = RunLocks()
        try holder?.take(rig.statePath)
        await #expect {
            try await rig.open(locks: RunLocks())
        } throws: { error in
            if case .locked(.held(let checkpoint, let who)) = error as? RunLaunchError {
                checkpoint == rig.statePath && who?.pid == getpid()
            } else {
                false
            }
        }
        #expect(!FileManager.default.fileExists(atPath: rig.statePath))
        // When the holder goes, so does its lock.
        holder = nil
        #expect(try await rig.open(locks: RunLocks()).isNewRun)
    }
}

@Suite struct RunModeTests {
    /// The executor's mode is the one switch for a dry run: it reads, plans every write, passes gates without a decision
    /// and sends nothing (no `ExecutorOptions` flag says it a second time).
    @Test func aDryRunModeWritesNothingAndPassesGates() async throws {
        let rig = try LaunchRig("dry-run-mode")
        let launcher = try await rig.open(mode: .dryRun)
        let launch = try await launcher.launch(rig.request(try rig.runbook(), gates: .pause))
        let run = try #require(launch.launched)
        #expect(run.executor.mode == .dryRun && !run.executor.mode.writesToTarget)
        #expect(try await run.executor.run() == .completed)
        #expect(await rig.tenant.objects(ofType: "user").isEmpty)
        #expect(await rig.tenant.objects(ofType: "group").isEmpty)
        let gates = try await launcher.store.gates()
        #expect(!gates.isEmpty && gates.allSatisfy { $0.status == .approved && $0.decidedBy == "dry run" })
        let counts = try await launcher.store.operationCounts(stageID: "users")
        #expect(counts[.skipped, default: 0] > 0 && counts[.failed, default: 0] == 0)
    }
}

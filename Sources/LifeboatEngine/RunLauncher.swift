import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// Starts or resumes a run: the one place that applies the resume rules, used by `tabletop`, `rebuild`, `resume` and
/// the what-if rehearsals. The command line only prints what it returns and maps it to an exit code.
///
/// The rules, in the order they apply:
/// 1. ``open(statePath:mode:snapshot:locks:clock:)`` takes the run's lock (one process per run), opens the checkpoint
///    (an existing file must already be a checkpoint) and finds the run it holds: a run of another mode or from another
///    snapshot is refused.
/// 2. ``launch(_:)`` refuses a target other than the one the run was started against, records a changed runbook
///    (finished operations are kept, the rest follow the new runbook), returns ``RunLaunch/alreadyComplete(_:runbookChange:)``
///    for a finished run, and otherwise records the resume, or starts the run and records its inputs (signature,
///    readiness) once, and returns the executor to run.
package struct RunLauncher: Sendable {
    /// The checkpoint database's path.
    package let statePath: String
    package let mode: RunMode
    /// The opened checkpoint (this process holds its lock).
    package let store: CheckpointStore
    /// The run the checkpoint already holds, `nil` for a new run.
    package let existing: ExistingRun?
    /// Holds the run's lock for as long as the launcher lives (a caller's own ``RunLocks`` may otherwise go first).
    private let locks: RunLocks

    /// A run found in the checkpoint.
    package struct ExistingRun: Sendable, Hashable {
        package var record: RunRecord
        package var status: ProgressStatus
        package var finishedAt: String?
    }

    /// `true` when the checkpoint holds no run yet.
    package var isNewRun: Bool { existing == nil }

    /// Opens (creating) the checkpoint at `statePath` under the run's lock and reads the run it holds.
    package static func open(
        statePath: String, mode: RunMode, snapshot: Snapshot, locks: RunLocks = .shared,
        clock: @escaping @Sendable () -> Date = { Date() }
    ) async throws(RunLaunchError) -> RunLauncher {
        let store = try openStore(statePath, locks: locks, clock: clock)
        let found: (record: RunRecord, status: ProgressStatus, finishedAt: String?)?
        do {
            found = try await store.runRecord()
        } catch {
            throw .cannotOpen(path: statePath, reason: "\(error)")
        }
        guard let found else { return RunLauncher(statePath: statePath, mode: mode, store: store, existing: nil, locks: locks) }
        guard found.record.mode == mode else { throw .otherMode(path: statePath, held: found.record.mode, requested: mode) }
        guard found.record.snapshotManifestSHA256 == snapshot.manifestSHA256 else {
            throw .otherSnapshot(path: statePath, held: found.record.snapshotManifestSHA256, given: snapshot.manifestSHA256)
        }
        return RunLauncher(
            statePath: statePath, mode: mode, store: store,
            existing: ExistingRun(record: found.record, status: found.status, finishedAt: found.finishedAt), locks: locks)
    }

    private static func openStore(_ path: String, locks: RunLocks, clock: @escaping @Sendable () -> Date) throws(RunLaunchError)
        -> CheckpointStore
    {
        do {
            let parent = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        if let kind = InputFile.nonRegularKind(path) { throw .stateNotAFile(path: path, kind: kind) }
        do {
            try locks.take(path)
        } catch let failure as CheckpointLock.Failure {
            throw .locked(failure)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
        // An existing file must already be a checkpoint (an empty one becomes one): another SQLite database is never
        // given Lifeboat's tables.
        if InputFile.isNonEmptyRegularFile(path) {
            do {
                _ = try CheckpointStore(readingOnly: path)
            } catch {
                throw .notACheckpoint(path: path, reason: "\(error)")
            }
        }
        do {
            return try CheckpointStore(path: path, clock: clock)
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// The run's parameters: those the run started with, overridden by `given`.
    package func parameters(_ given: [String: String]) -> [String: String] {
        (existing?.record.parameters ?? [:]).merging(given) { _, new in new }
    }

    /// Refuses a target other than the one the run was started against (a new run accepts any).
    package func checkTarget(tenantID: String?) throws(RunLaunchError) {
        guard let existing, let recorded = existing.record.targetTenantId, let tenantID, recorded.lowercased() != tenantID.lowercased()
        else { return }
        throw .otherTarget(path: statePath, recorded: recorded, reached: tenantID)
    }

    /// Applies the resume rules (see the type's documentation) and returns what to do next.
    package func launch(_ request: RunLaunchRequest) async throws -> RunLaunch {
        try checkTarget(tenantID: request.target.tenantID)
        let runbook = request.runbook
        var change: RunbookChange?
        if let existing, existing.record.runbookSHA256 != runbook.sha256 {
            change = RunbookChange(from: existing.record.runbookSHA256, to: runbook.sha256)
            try await store.append(.runbookChanged(fromSHA256: existing.record.runbookSHA256, toSHA256: runbook.sha256), simulated: nil)
        }
        let record: RunRecord
        if let existing {
            if existing.status == .done { return .alreadyComplete(existing.record, runbookChange: change) }
            try await store.recordResume(operatorName: request.operatorName, host: request.host, simulatedSeconds: nil)
            record = existing.record
        } else {
            record = RunRecord(
                id: request.runID, mode: mode, runbookPath: request.runbookPath, runbookName: runbook.name, runbookSHA256: runbook.sha256,
                snapshotPath: request.snapshotPath, snapshotManifestSHA256: request.snapshot.manifestSHA256,
                sourceTenantId: request.snapshot.manifest.sourceTenantId, snapshotCapturedAt: request.snapshot.manifest.capturedAt,
                parameters: request.parameters, target: request.target.description, targetTenantId: request.target.tenantID,
                fakeStatePath: request.target.fakeStatePath, concurrency: request.executor.concurrency, toolVersion: request.toolVersion,
                operatorName: request.operatorName, host: request.host, startedAt: ISO8601DateFormatter().string(from: request.startedAt),
                objectiveSeconds: runbook.objective, profile: request.profile, scenarioPath: request.scenarioPath, apps: request.apps)
            try await store.startRun(
                record, stages: runbook.stages.map { ($0.id, $0.kind, $0.title) }, simulatedSeconds: request.startSimulatedSeconds)
            // What the report says about the run's inputs is recorded once, when it starts.
            for input in request.inputs { try await input.record(in: store, simulatedSeconds: nil) }
        }
        let executor = Executor(
            runbook: runbook, snapshot: request.snapshot, graph: request.graph, store: store, mode: mode,
            options: request.executor, observer: request.observer, simulatedClock: request.simulatedClock,
            simulatedEpoch: request.simulatedEpoch, prepared: request.prepared)
        let launched = LaunchedRun(record: record, executor: executor, runbookChange: change)
        return existing == nil ? .started(launched) : .resumed(launched)
    }
}

/// Where a run writes, as its record names it.
package struct RunTarget: Sendable, Hashable, CustomStringConvertible {
    /// For the run record and the report, e.g. `tenant contosodr.onmicrosoft.com (…) via https://graph.microsoft.com`.
    package var description: String
    /// The target tenant's id; a resume against another tenant is refused.
    package var tenantID: String?
    /// A tabletop's fake tenant state file.
    package var fakeStatePath: String?

    package init(description: String, tenantID: String?, fakeStatePath: String? = nil) {
        self.description = description
        self.tenantID = tenantID
        self.fakeStatePath = fakeStatePath
    }
}

/// Something about a run's inputs that the report shows, recorded in the run's event log once, when the run starts.
package protocol RunInput: Sendable {
    func record(in store: CheckpointStore, simulatedSeconds: Double?) async throws
}

/// What the chain of custody says about the snapshot's signature (a `snapshot.signature` event).
package struct SnapshotSignatureStatement: RunInput, Hashable {
    package var statement: String

    package init(_ statement: String) {
        self.statement = statement
    }

    package func record(in store: CheckpointStore, simulatedSeconds: Double?) async throws {
        try await store.append(.snapshotSignature(statement: statement), simulated: simulatedSeconds)
    }
}

/// Everything ``RunLauncher/launch(_:)`` needs besides the checkpoint; fields are added here, not as arguments.
package struct RunLaunchRequest: Sendable {
    /// The runbook as loaded for this target (its hash is compared with the run's).
    package var runbook: Runbook
    package var runbookPath: String
    package var snapshot: Snapshot
    package var snapshotPath: String
    /// The stages as ``Executor/prepare(_:snapshot:)`` planned them, when the caller already did.
    package var prepared: PlannedStages?
    /// The parameters the run records (``RunLauncher/parameters(_:)``).
    package var parameters: [String: String]
    package var target: RunTarget
    /// The client the executor writes through.
    package var graph: GraphClient
    /// The executor's settings; its ``ExecutorOptions/concurrency`` is recorded with a new run.
    package var executor: ExecutorOptions
    package var observer: (any RunObserver)?
    /// A tabletop's simulated clock and its time zero (see ``Executor``).
    package var simulatedClock: (any GraphClock)?
    package var simulatedEpoch = Date(timeIntervalSince1970: 0)
    /// Recorded once, when the run starts: the signature statement, the readiness verdict.
    package var inputs: [any RunInput] = []
    package var operatorName: String
    package var host: String = ProcessInfo.processInfo.hostName
    package var toolVersion: String
    /// A tabletop's fake tenant profile, scenario file and app registrations, for the run record.
    package var profile: String?
    package var scenarioPath: String?
    package var apps: Int?
    /// A new run's id and start time.
    package var runID = UUID().uuidString.lowercased()
    package var startedAt = Date()
    /// The simulated time stamped on a new run's `run.started` event (what-if rehearsals start at 0).
    package var startSimulatedSeconds: Double?

    package init(
        runbook: Runbook, runbookPath: String, snapshot: Snapshot, snapshotPath: String, parameters: [String: String],
        target: RunTarget, graph: GraphClient, executor: ExecutorOptions, operatorName: String, toolVersion: String
    ) {
        self.runbook = runbook
        self.runbookPath = runbookPath
        self.snapshot = snapshot
        self.snapshotPath = snapshotPath
        self.parameters = parameters
        self.target = target
        self.graph = graph
        self.executor = executor
        self.operatorName = operatorName
        self.toolVersion = toolVersion
    }
}

/// The runbook's hash changed between the run's start and this invocation.
package struct RunbookChange: Sendable, Hashable {
    /// The runbook hashes the run started with and this invocation loaded.
    package var from: String
    package var to: String

    package init(from: String, to: String) {
        self.from = from
        self.to = to
    }
}

/// A run ready to go: its record and the executor that runs it.
package struct LaunchedRun: Sendable {
    package var record: RunRecord
    package var executor: Executor
    /// Set when the runbook changed since the run started (recorded as `run.runbook-changed`).
    package var runbookChange: RunbookChange?
}

/// What ``RunLauncher/launch(_:)`` decided.
package enum RunLaunch: Sendable {
    /// A new run was started; its inputs are recorded.
    case started(LaunchedRun)
    /// An unfinished run was resumed (`run.resumed` recorded).
    case resumed(LaunchedRun)
    /// The run is already done; nothing is to be run.
    case alreadyComplete(RunRecord, runbookChange: RunbookChange?)

    /// The run to go on with, unless it is already complete.
    package var launched: LaunchedRun? {
        switch self {
        case .started(let run), .resumed(let run): run
        case .alreadyComplete: nil
        }
    }
}

/// Why a run was not opened or launched; nothing was written to the target when one is thrown.
package enum RunLaunchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--state` names a directory, device or pipe.
    case stateNotAFile(path: String, kind: String)
    /// Another process works the run.
    case locked(CheckpointLock.Failure)
    /// The file exists and is not a checkpoint (another SQLite database, or not SQLite at all).
    case notACheckpoint(path: String, reason: String)
    case cannotOpen(path: String, reason: String)
    /// The checkpoint holds a run of another mode (`tabletop`, `live`, `dry-run`).
    case otherMode(path: String, held: RunMode, requested: RunMode)
    /// The checkpoint holds a run from another snapshot (manifest hashes).
    case otherSnapshot(path: String, held: String, given: String)
    /// The credentials reach another tenant than the one the run was started against.
    case otherTarget(path: String, recorded: String, reached: String)

    package var description: String {
        switch self {
        case .stateNotAFile(let path, let kind):
            "--state \(path) is \(kind), not a checkpoint database; nothing was written"
        case .locked(let failure):
            "\(failure)"
        case .notACheckpoint(_, let reason):
            reason
        case .cannotOpen(_, let reason):
            "cannot open the state database: \(reason)"
        case .otherMode(let path, let held, let requested):
            "\(path) holds a \(held.rawValue) run, not a \(requested.rawValue) run; use another --state"
        case .otherSnapshot(let path, let held, let given):
            "\(path) belongs to a run from another snapshot (manifest \(held.prefix(12))…, this one is \(given.prefix(12))…); use a new --state to start another run"
        case .otherTarget(let path, let recorded, let reached):
            "\(path) belongs to a run against tenant \(recorded), but these credentials reach \(reached); nothing was written"
        }
    }
}

/// Checkpoint locks held together (``CheckpointLock``): released when the instance goes, and by the OS when the process
/// exits, however it exits.
package final class RunLocks: @unchecked Sendable {
    /// The process's locks, held for its life (the CLI: one process per run).
    package static let shared = RunLocks()
    private let guardLock = NSLock()
    private var held: [String: CheckpointLock] = [:]

    package init() {}

    /// Takes the lock of `statePath` unless this process already holds it; throws ``CheckpointLock/Failure``.
    package func take(_ statePath: String) throws {
        let key = URL(fileURLWithPath: statePath).standardizedFileURL.path
        try guardLock.withLock {
            if held[key] != nil { return }
            held[key] = try CheckpointLock(checkpoint: statePath)
        }
    }
}

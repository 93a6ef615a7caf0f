import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A point at which a tabletop makes the process die with SIGKILL, to rehearse a crash and resume.
public struct SimulatedCrash: Sendable, Hashable {
    public enum Point: String, Sendable, CaseIterable {
        /// After intents are committed, before the writes are sent.
        case intent
        /// After the target applied a write, before its result is committed.
        case response
        /// After results are committed.
        case result
    }
    public var point: Point
    /// Die once this many operations have passed the point (counted in this process).
    public var afterOperations: Int
    /// Only count operations of this stage, when given.
    public var stageID: String?

    public init(point: Point, afterOperations: Int, stageID: String? = nil) {
        self.point = point
        self.afterOperations = afterOperations
        self.stageID = stageID
    }

    /// Parses `point:count` or `point:count@stage`, e.g. `response:25@users`.
    public init?(_ text: String) {
        let (spec, stage) = text.split(separator: "@", maxSplits: 1).map(String.init).splitFirst()
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let point = Point(rawValue: String(parts[0])), let count = Int(parts[1]), count > 0 else { return nil }
        self.init(point: point, afterOperations: count, stageID: stage)
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String?) { (self.first ?? "", self.count > 1 ? self[1] : nil) }
}

/// How gates are decided when the executor reaches them.
public enum GatePolicy: Sendable, Hashable {
    /// Approve automatically and record who did (tabletop default).
    case autoApprove(by: String)
    /// Stop and wait for `lifeboat approve`.
    case pause
}

/// A gate's decision made in a facilitated exercise (an interactive tabletop).
public enum GateOutcome: Sendable, Hashable {
    /// Approved by `by`; the decider has already let the people's time pass on the simulated clock.
    case approve(by: String, note: String?)
    /// Stop as ``GatePolicy/pause`` does: `lifeboat approve` decides later.
    case pause
}

/// Decides gates as they come (an operator at a prompt); consulted instead of ``ExecutorOptions/gates``.
public protocol GateDecider: Sendable {
    func decide(_ stage: Runbook.Stage, instructions: String) async throws -> GateOutcome
}

/// Settings of one executor invocation.
public struct ExecutorOptions: Sendable {
    /// Writes in flight at once.
    public var concurrency: Int = 8
    public var gates: GatePolicy = .pause
    /// Operations per checkpoint window, per slot of ``concurrency``: every window commits its intents before any of
    /// its writes is sent and its results after the last one returns. Larger windows mean fewer checkpoint transactions
    /// and fewer pauses while a window's last writes finish, and more look-ups after a crash.
    public var windowPerSlot = 16
    /// Attempts for one operation across ambiguous failures and replication lag.
    public var maxAttempts: Int = 5
    public var crash: SimulatedCrash?
    /// When set, decides every gate the run reaches (interactive tabletop); ``gates`` is not used.
    public var gateDecider: (any GateDecider)?
    /// Where relative output paths (ID map exports) are resolved.
    public var outputDirectory: URL
    /// Read the target and plan every write without sending it: each operation is looked up
    /// (found objects are adopted into this run's ID map), and the rest are recorded as "would write".
    public var dryRun = false
    /// Checked at every operation boundary; when set, the run stops cleanly and can be resumed.
    public var stop: StopRequest?
    /// Called before the checkpoint records results: a target that batches its own commits (a tabletop's in-process
    /// fake tenant) makes everything it acknowledged durable first, so the checkpoint never records a write the target lost.
    public var commitTarget: (@Sendable () async throws -> Void)?

    public init(outputDirectory: URL) {
        self.outputDirectory = outputDirectory
    }
}

/// Progress the executor reports as it goes (to a terminal, a log, or a test).
public enum RunProgress: Sendable {
    case stageStarted(id: String, title: String, total: Int)
    case operations(id: String, finished: Int, total: Int)
    case stageFinished(id: String, status: ProgressStatus, counts: [OperationState: Int])
    case gateWaiting(id: String, instructions: String)
    case gateApproved(id: String, by: String)
    case warning(String)
}

/// Receives ``RunProgress``.
public protocol RunObserver: Sendable {
    func report(_ progress: RunProgress)
}

/// How an executor invocation ended.
public enum RunOutcome: Sendable, Equatable {
    /// Every stage is done.
    case completed
    /// Stopped at a gate that needs `lifeboat approve`.
    case pausedAtGate(stageID: String, instructions: String)
    /// A stage has failed operations; fix the cause and resume.
    case failed(stageID: String, failedOperations: Int)
    /// The operator asked the run to stop (Ctrl-C); it stopped between operations and resumes where it stopped.
    case stopped(stageID: String?)
}

/// A request to stop a run at the next operation boundary, set from a signal handler or another task.
public final class StopRequest: Sendable {
    private let flag = Atomic<Bool>(false)

    public init() {}

    /// Asks the run to stop; returns `true` the first time.
    @discardableResult
    public func request() -> Bool {
        !flag.exchange(true, ordering: .acquiringAndReleasing)
    }

    public var isRequested: Bool { flag.load(ordering: .acquiring) }
}

/// Runs a runbook's stages against a target, checkpointing every operation.
public struct Executor: Sendable {
    public let runbook: Runbook
    public let snapshot: Snapshot
    public let graph: GraphClient
    public let store: CheckpointStore
    public let mode: RunMode
    public let options: ExecutorOptions
    public let observer: (any RunObserver)?
    /// A simulated clock whose time is stamped on events, for tabletops.
    public let simulatedClock: (any GraphClock)?
    /// Simulated time zero: events record seconds since it.
    public let simulatedEpoch: Date

    /// The runbook's stages as ``prepare(_:snapshot:)`` planned them for this snapshot, when the caller already did.
    public let plannedStages: [PreparedStage]?

    private let crashCounter = CrashCounter()

    /// `prepared` must come from ``prepare(_:snapshot:)`` of the same runbook and snapshot; without it, `run()` plans them itself.
    public init(runbook: Runbook, snapshot: Snapshot, graph: GraphClient, store: CheckpointStore, mode: RunMode,
                options: ExecutorOptions, observer: (any RunObserver)? = nil, simulatedClock: (any GraphClock)? = nil,
                simulatedEpoch: Date = Date(timeIntervalSince1970: 0), prepared: [PreparedStage]? = nil) {
        self.plannedStages = prepared
        self.runbook = runbook
        self.snapshot = snapshot
        self.graph = graph
        self.store = store
        self.mode = mode
        self.options = options
        self.observer = observer
        self.simulatedClock = simulatedClock
        self.simulatedEpoch = simulatedEpoch
    }

    /// Validates every stage's options and plans every stage before anything is written.
    public static func prepare(_ runbook: Runbook, snapshot: Snapshot) throws(StageConfigurationError) -> [PreparedStage] {
        let index = SnapshotIndex(snapshot)
        var prepared: [PreparedStage] = []
        for stage in runbook.stages {
            let kind = try StageCatalog.make(stage)
            prepared.append(PreparedStage(stage: stage, kind: kind, plan: try kind.plan(snapshot, index: index)))
        }
        return prepared
    }

    /// Runs (or resumes) the run until it completes, pauses at a gate, or a stage fails.
    public func run() async throws -> RunOutcome {
        var prepared: [PreparedStage] = []
        if let plans = plannedStages {
            // Planning 50,000 users takes seconds; a caller that already planned passes its plans. Stage kinds are made
            // anew: they hold what one run of a stage read from the target.
            for planned in plans { prepared.append(PreparedStage(stage: planned.stage, kind: try StageCatalog.make(planned.stage), plan: planned.plan)) }
        } else {
            prepared = try Self.prepare(runbook, snapshot: snapshot)
        }
        let index = SnapshotIndex(snapshot)
        let stageRecords = Dictionary(uniqueKeysWithValues: try await store.stages().map { ($0.id, $0) })
        var idMap = IDMap(try await store.idMapEntries())

        for item in prepared {
            let (stage, kind, plan) = (item.stage, item.kind, item.plan)
            if options.stop?.isRequested == true { return try await stopped(at: nil) }
            if stageRecords[stage.id]?.status == .done, try await store.operationCounts(stageID: stage.id)[.pending, default: 0] == 0 {
                continue
            }
            if let gate = stage.gate {
                let record = try await store.requestGate(stage.id, instructions: gate.instructions, simulatedSeconds: await simulatedNow())
                if record.status != "approved" {
                    var policy = options.gates
                    var note = "approved automatically (tabletop)"
                    if options.dryRun {
                        policy = .autoApprove(by: "dry run")
                        note = "passed without a decision (dry run: nothing is written)"
                    } else if let decider = options.gateDecider {
                        switch try await decider.decide(stage, instructions: gate.instructions) {
                        case .approve(let name, let decidedNote):
                            policy = .autoApprove(by: name)
                            note = decidedNote ?? "approved at the prompt"
                        case .pause:
                            policy = .pause
                        }
                    }
                    switch policy {
                    case .autoApprove(let name):
                        // In a rehearsal, the people's work the stage estimates passes on the simulated clock.
                        if options.gateDecider == nil, !options.dryRun, let duration = stage.estimatedDuration, let simulatedClock {
                            try await WaitReason.$current.withValue(.people) { try await simulatedClock.sleep(seconds: duration) }
                        }
                        _ = try await store.approveGate(stage.id, by: name, note: note, simulatedSeconds: await simulatedNow())
                        observer?.report(.gateApproved(id: stage.id, by: name))
                    case .pause:
                        try await store.setStageStatus(stage.id, .waiting, message: "waiting at gate", simulatedSeconds: await simulatedNow())
                        try await store.setRunStatus(.waiting, message: "paused at gate \(stage.id)", simulatedSeconds: await simulatedNow())
                        observer?.report(.gateWaiting(id: stage.id, instructions: gate.instructions))
                        return .pausedAtGate(stageID: stage.id, instructions: gate.instructions)
                    }
                }
            }

            try await store.setStageStatus(stage.id, .running, message: "\(stage.title) started", simulatedSeconds: await simulatedNow())
            let inserted = try await store.insertPlanned(plan.operations, stageID: stage.id)
            let retried = try await store.retryFailed(stageID: stage.id)
            // A stage planned just now has exactly its plan pending; only a resumed stage is read back from the checkpoint.
            let fresh = inserted == plan.operations.count && retried == 0 ? plan.operations.filter { $0.skip == nil } : nil
            for warning in plan.warnings { observer?.report(.warning("\(stage.id): \(warning)")) }

            let context = StageContext(stage: stage, graph: graph, snapshot: snapshot, index: index, idMap: idMap, mode: mode,
                                       outputDirectory: options.outputDirectory, checkpoint: store)
            let (failed, mappings) = try await runOperations(of: stage, kind: kind, context: context, planned: fresh)
            if options.stop?.isRequested == true, try await store.operationCounts(stageID: stage.id)[.pending, default: 0] > 0 {
                return try await stopped(at: stage.id)
            }
            if failed > 0 {
                try await store.setStageStatus(stage.id, .failed, message: "\(failed) operations failed", simulatedSeconds: await simulatedNow())
                try await store.setRunStatus(.failed, message: "stopped after stage \(stage.id): \(failed) operations failed", simulatedSeconds: await simulatedNow())
                observer?.report(.stageFinished(id: stage.id, status: .failed, counts: try await store.operationCounts(stageID: stage.id)))
                return .failed(stageID: stage.id, failedOperations: failed)
            }
            // The next stages see this stage's objects: the rows just committed, applied as the checkpoint applied them
            // (re-reading the whole map after every stage costs seconds on a tenant of 100,000 users).
            for mapping in mappings { idMap.record(mapping) }
            let finishedContext = StageContext(stage: stage, graph: graph, snapshot: snapshot, index: index, idMap: idMap, mode: mode,
                                               outputDirectory: options.outputDirectory, checkpoint: store)
            if !options.dryRun {
                try await kind.finish(in: finishedContext)
                try await options.commitTarget?()
            }
            try await store.setStageStatus(stage.id, .done, message: "\(stage.title) done", simulatedSeconds: await simulatedNow())
            observer?.report(.stageFinished(id: stage.id, status: .done, counts: try await store.operationCounts(stageID: stage.id)))
        }
        try await store.setRunStatus(.done, message: "all \(prepared.count) stages done", simulatedSeconds: await simulatedNow())
        return .completed
    }

    /// Reconciles operations left in `sent`, then performs pending ones in windows; returns the number that failed
    /// and the ID-map rows committed, in commit order.
    private func runOperations(of stage: Runbook.Stage, kind: any StageKind, context: StageContext,
                               planned: [PlannedOperation]?) async throws -> (failed: Int, mappings: [IDMapEntry]) {
        var mappings: [IDMapEntry] = []
        func committed(_ completions: [CheckpointStore.Completion]) {
            for case .succeeded(_, _, let mapping?) in completions { mappings.append(mapping) }
        }
        let counts = try await store.operationCounts(stageID: stage.id)
        let total = counts.values.reduce(0, +)
        var finished = counts[.done, default: 0] + counts[.skipped, default: 0]
        observer?.report(.stageStarted(id: stage.id, title: stage.title, total: total))

        // A crash may have left writes whose outcome is unknown: look them up before anything is retried.
        let unknown = try await store.operations(stageID: stage.id, state: .sent)
        if !unknown.isEmpty {
            try await store.appendEvent(kind: "operations.reconciling", stageID: stage.id,
                                        message: "\(unknown.count) writes were in flight when the last run stopped; looking them up before retrying",
                                        simulated: await simulatedNow())
            let completions = await concurrently(unknown.map(\.planned)) { op in
                await Reconciliation.$afterUnknownOutcome.withValue(true) { await self.reconcile(op, kind: kind, context: context) }
            }
            try await options.commitTarget?()
            try await store.recordCompletions(completions, stageID: stage.id, simulatedSeconds: await simulatedNow())
            committed(completions)
        }

        let pending: [PlannedOperation]
        if let planned {
            pending = planned
        } else {
            pending = try await store.operations(stageID: stage.id, state: .pending).map(\.planned)
        }
        let window = max(1, options.concurrency * options.windowPerSlot)
        let batches = stride(from: 0, to: pending.count, by: window).map { Array(pending[$0..<min($0 + window, pending.count)]) }
        // Windows are pipelined: while window k is in flight, the checkpoint commits window k-1's results and window k+1's
        // intents, so the checkpoint's writes overlap the target's. Every write still has its intent committed before it is
        // sent, and every result is committed after the target made it durable (commitTarget).
        let stageID = stage.id
        @Sendable func bookkeep(results: [CheckpointStore.Completion]?, intents: [PlannedOperation]?) async throws {
            if let results {
                try await options.commitTarget?()
                try await store.recordCompletions(results, stageID: stageID, simulatedSeconds: await simulatedNow())
            }
            if let intents, kind.writesToTarget { try await store.recordIntents(intents.map(\.key), stageID: stageID, simulatedSeconds: await simulatedNow()) }
        }
        func recorded(_ completions: [CheckpointStore.Completion]) async {
            committed(completions)
            await crashIfDue(.result, stage: stageID, passed: completions.count)
            finished += completions.filter { if case .failed = $0 { false } else { true } }.count
            observer?.report(.operations(id: stageID, finished: finished, total: total))
        }
        if let first = batches.first, options.stop?.isRequested != true {
            try await bookkeep(results: nil, intents: first)
        }
        var previous: [CheckpointStore.Completion]?
        for (number, batch) in batches.enumerated() {
            try Task.checkCancellation()
            if options.stop?.isRequested == true {
                // Its intents are committed but nothing of it was sent: it goes back to pending, not to "in flight".
                try await store.withdrawIntents(batch.map(\.key), stageID: stageID)
                break
            }
            await crashIfDue(.intent, stage: stageID, passed: batch.count)
            let results = previous, intents = number + 1 < batches.count ? batches[number + 1] : nil
            async let bookkeeping: Void = bookkeep(results: results, intents: intents)
            let completions = await concurrently(batch) { op in
                let completion = await self.execute(op, kind: kind, context: context)
                await self.crashIfDue(.response, stage: stageID, passed: 1)
                return completion
            }
            try await bookkeeping
            if let previous { await recorded(previous) }
            previous = completions
        }
        if let previous {
            try await bookkeep(results: previous, intents: nil)
            await recorded(previous)
        }
        return (try await store.operationCounts(stageID: stage.id)[.failed, default: 0], mappings)
    }

    /// Records a clean stop asked for by the operator.
    private func stopped(at stageID: String?) async throws -> RunOutcome {
        if let stageID {
            try await store.setStageStatus(stageID, .pending, message: "stopped by the operator between operations", simulatedSeconds: await simulatedNow())
        }
        try await store.setRunStatus(.pending, message: "stopped by the operator" + (stageID.map { " during stage \($0)" } ?? ""),
                                     simulatedSeconds: await simulatedNow())
        try await store.appendEvent(kind: "run.stopped", stageID: stageID, message: "stopped cleanly at an operation boundary; no write is in flight",
                                    simulated: await simulatedNow())
        return .stopped(stageID: stageID)
    }

    /// Performs one operation, reconciling after an ambiguous failure and retrying replication lag.
    private func execute(_ op: PlannedOperation, kind: any StageKind, context: StageContext) async -> CheckpointStore.Completion {
        // An object an earlier stage already restored (from the recycle bin, or found in place) is not created again.
        if op.objectType != nil, let existing = context.idMap.entry(for: op.sourceID), existing.stageID != context.stage.id {
            return .succeeded(op, OperationOutcome(.unchanged, newID: existing.newID, note: "already \(existing.how.rawValue) by stage \(existing.stageID)"),
                              mapping: nil)
        }
        if options.dryRun { return await dryRun(op, kind: kind, context: context) }
        var lastError: GraphError?
        // Set while an earlier attempt's write may have landed and no look-up has settled whether it did: the next
        // attempt must not write before a look-up that waits out Graph's list lag finds nothing (a look-up that failed,
        // e.g. while the target was unreachable, proves nothing).
        var outcomeUnknown = false
        var lookupFailure: (code: String, message: String, requestID: String?)?
        for attempt in 1...options.maxAttempts {
            do {
                if outcomeUnknown {
                    switch await Reconciliation.$afterUnknownOutcome.withValue(true, operation: { await reconcile(op, kind: kind, context: context) }) {
                    case .succeeded(let op, let outcome, let mapping):
                        return .succeeded(op, outcome, mapping: mapping)
                    case .notApplied:
                        outcomeUnknown = false
                    case .failed(_, let code, let message, let requestID):
                        lookupFailure = (code, message, requestID)
                        await backOff(attempt: attempt, since: nil)
                        continue
                    }
                }
                let outcome = try await kind.perform(op, in: context)
                return .succeeded(op, outcome, mapping: mapping(op, outcome, stage: context.stage.id))
            } catch let error as GraphError {
                lastError = error
                if error.kind == .ambiguous {
                    // The write may have landed: the next attempt looks it up first and adopts it if it did.
                    outcomeUnknown = true
                } else if error.isTransient || error.isNotFound {
                    // Graph is eventually consistent: just-created references can be invisible for seconds.
                    await backOff(attempt: attempt, since: error.answeredAt)
                } else {
                    return .failed(op, code: error.code, message: error.message, requestID: error.requestID)
                }
            } catch let error as StageOperationError {
                return .failed(op, code: error.code, message: error.message, requestID: nil)
            } catch {
                return .failed(op, code: "Error", message: "\(error)", requestID: nil)
            }
        }
        if outcomeUnknown {
            // Recorded as failed, but resumed as a write in flight: `retryFailed` puts it back to `sent`, so the next run
            // looks it up before anything is written again.
            return .failed(op, code: CheckpointStore.outcomeUnknownCode,
                           message: "the write may have landed but could not be looked up (\(lookupFailure?.code ?? lastError?.code ?? "Error"): \(lookupFailure?.message ?? lastError?.message ?? "gave up")); a resume looks it up before writing again",
                           requestID: lookupFailure?.requestID ?? lastError?.requestID)
        }
        return .failed(op, code: lastError?.code ?? "Error", message: (lastError?.message ?? "gave up") + " (after \(options.maxAttempts) attempts)",
                       requestID: lastError?.requestID)
    }

    /// Looks the operation's object up without writing: found → adopted into this dry run's ID map, else "would write".
    private func dryRun(_ op: PlannedOperation, kind: any StageKind, context: StageContext) async -> CheckpointStore.Completion {
        switch await reconcile(op, kind: kind, context: context) {
        case .succeeded(let op, let outcome, let mapping):
            return .succeeded(op, outcome, mapping: mapping)
        case .failed(let op, let code, let message, _):
            return .succeeded(op, OperationOutcome(.skipped, note: "dry run: would write; the target could not be checked (\(code): \(message))"), mapping: nil)
        case .notApplied(let op):
            return .succeeded(op, OperationOutcome(.skipped, note: "dry run: would write"), mapping: nil)
        }
    }

    private func reconcile(_ op: PlannedOperation, kind: any StageKind, context: StageContext) async -> CheckpointStore.Completion {
        for attempt in 1...options.maxAttempts {
            do {
                if let outcome = try await kind.reconcile(op, in: context) {
                    return .succeeded(op, outcome, mapping: mapping(op, outcome, stage: context.stage.id))
                }
                return .notApplied(op)
            } catch let error as GraphError where error.isTransient {
                await backOff(attempt: attempt, since: error.answeredAt)
            } catch let error as GraphError {
                return .failed(op, code: error.code, message: "reconciliation failed: \(error.message)", requestID: error.requestID)
            } catch {
                return .failed(op, code: "Error", message: "reconciliation failed: \(error)", requestID: nil)
            }
        }
        return .failed(op, code: "ReconciliationFailed", message: "could not look the object up in the target", requestID: nil)
    }

    /// Waits the retry policy's backoff, counted from when the failure arrived: operations that failed together (at one
    /// simulated instant) wait together instead of one after another.
    private func backOff(attempt: Int, since: Date?) async {
        let failedAt = if let since { since } else { await graph.clock.now() }
        try? await WaitReason.$current.withValue(.retry) {
            try await graph.clock.sleep(until: failedAt.addingTimeInterval(graph.retry.backoff(attempt: attempt)))
        }
    }

    private func mapping(_ op: PlannedOperation, _ outcome: OperationOutcome, stage: String) -> IDMapEntry? {
        guard let type = op.objectType, let newID = outcome.newID else { return nil }
        let how: RestoreMethod
        switch outcome.result {
        case .created: how = .created
        case .adopted, .unchanged: how = .adopted
        case .applied: how = .restored
        case .skipped: return nil
        }
        return IDMapEntry(objectType: type, oldID: op.sourceID, newID: newID, naturalKey: op.naturalKey, displayName: op.displayName,
                          how: how, oldAppID: op.detail["appId"]?.stringValue, newAppID: outcome.newAppID, stageID: stage)
    }

    /// Runs `body` over the items with at most `options.concurrency` in flight, keeping input order.
    private func concurrently(_ items: [PlannedOperation], _ body: @escaping @Sendable (PlannedOperation) async -> CheckpointStore.Completion) async -> [CheckpointStore.Completion] {
        await withTaskGroup(of: (Int, CheckpointStore.Completion).self) { group in
            var results = [CheckpointStore.Completion?](repeating: nil, count: items.count)
            var next = 0
            func addNext() {
                guard next < items.count else { return }
                let index = next
                let item = items[index]
                group.addTask { (index, await body(item)) }
                next += 1
            }
            for _ in 0..<min(max(1, options.concurrency), items.count) { addNext() }
            while let (index, completion) = await group.next() {
                results[index] = completion
                addNext()
            }
            return results.map { $0! }
        }
    }

    private func simulatedNow() async -> Double? {
        guard let simulatedClock else { return nil }
        return await simulatedClock.now().timeIntervalSince(simulatedEpoch)
    }

    private func crashIfDue(_ point: SimulatedCrash.Point, stage: String, passed: Int) async {
        guard let crash = options.crash, crash.point == point, crash.stageID == nil || crash.stageID == stage else { return }
        if crashCounter.add(passed) >= crash.afterOperations {
            // What the target applied stays applied: the crash is the operator's machine, not Graph.
            try? await options.commitTarget?()
            FileHandle.standardError.write(Data("lifeboat: simulated crash (\(point.rawValue)) — the process is killed now\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}

/// A runbook stage with its kind (options checked) and its plan for one snapshot.
public struct PreparedStage: Sendable {
    public let stage: Runbook.Stage
    public let kind: any StageKind
    public let plan: StagePlan

    public init(stage: Runbook.Stage, kind: any StageKind, plan: StagePlan) {
        self.stage = stage
        self.kind = kind
        self.plan = plan
    }
}

/// A stage-level failure of one operation that is not a Graph error (e.g. an unresolvable reference).
public struct StageOperationError: Error, Sendable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// Counts operations past a crash point across concurrent tasks.
final class CrashCounter: Sendable {
    private let count = Mutex(0)
    func add(_ value: Int) -> Int {
        count.withLock { total in
            total += value
            return total
        }
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import Synchronization

#if canImport(Glibc)
    import Glibc

    /// glibc's `malloc_trim(3)` (malloc.h, which the Glibc module does not export).
    @_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
#elseif canImport(Darwin)
    import Darwin
#endif

/// Runs a runbook's stages against a target, checkpointing every operation.
package struct Executor: Sendable {
    package let runbook: Runbook
    package let snapshot: Snapshot
    package let graph: GraphClient
    package let store: CheckpointStore
    package let mode: RunMode
    package let options: ExecutorOptions
    package let observer: (any RunObserver)?
    /// A simulated clock whose time is stamped on events, for tabletops.
    package let simulatedClock: (any GraphClock)?
    /// Simulated time zero: events record seconds since it.
    package let simulatedEpoch: Date

    /// The runbook's stages as ``prepare(_:snapshot:)`` planned them for this snapshot, when the caller already did; each
    /// stage's plan is taken from it when the stage is reached.
    package let plannedStages: PlannedStages?

    private let crashCounter = CrashCounter()

    /// `prepared` must come from ``prepare(_:snapshot:)`` of the same runbook and snapshot; without it, `run()` plans them itself.
    package init(
        runbook: Runbook, snapshot: Snapshot, graph: GraphClient, store: CheckpointStore, mode: RunMode,
        options: ExecutorOptions, observer: (any RunObserver)? = nil, simulatedClock: (any GraphClock)? = nil,
        simulatedEpoch: Date = Date(timeIntervalSince1970: 0), prepared: PlannedStages? = nil
    ) {
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
    package static func prepare(_ runbook: Runbook, snapshot: Snapshot) throws(StageConfigurationError) -> [PreparedStage] {
        let index = SnapshotIndex(snapshot)
        var prepared: [PreparedStage] = []
        for stage in runbook.stages {
            let kind = try StageCatalog.make(stage)
            prepared.append(PreparedStage(stage: stage, kind: kind, plan: try kind.plan(snapshot, index: index)))
        }
        return prepared
    }

    /// Runs (or resumes) the run until it completes, pauses at a gate, or a stage fails.
    package func run() async throws -> RunOutcome {
        var prepared: [(stage: Runbook.Stage, kind: any StageKind, plan: StagePlan?)] = []
        if plannedStages != nil || options.planStagesWhenReached {
            // Planning 50,000 users takes seconds; a caller that already planned passes its plans, taken stage by stage
            // below. Stage kinds are made anew: they hold what one run of a stage read from the target.
            for stage in runbook.stages { prepared.append((stage, try StageCatalog.make(stage), nil)) }
        } else {
            prepared = try Self.prepare(runbook, snapshot: snapshot).map { ($0.stage, $0.kind, $0.plan) }
        }
        // The ID map is read (on the checkpoint's queue) and indexed while the snapshot is indexed here: on a resume at
        // 100,000 users each takes a few hundred milliseconds before the first write.
        let store = store
        async let mapRead = IDMap(try await store.idMapEntries(ordered: false))
        let index = SnapshotIndex(snapshot)
        let stageRecords = Dictionary(uniqueKeysWithValues: try await store.stages().map { ($0.id, $0) })
        var idMap = try await mapRead

        var stageRan = false
        for position in prepared.indices {
            let item = prepared[position]
            // Let the plan go with its stage: the checkpoint holds its operations from here on.
            prepared[position].plan = nil
            // The previous stage's plan and operations are freed by now: give their pages back to the system (only after a
            // stage that ran: a resume passes the stages already done without walking the heap for each).
            if stageRan { Self.returnFreedMemory() }
            stageRan = false
            let (stage, kind) = (item.stage, item.kind)
            if options.stop?.isRequested == true { return try await stopped(at: nil) }
            if stageRecords[stage.id]?.status == .done, try await store.operationCounts(stageID: stage.id)[.pending, default: 0] == 0 {
                _ = plannedStages?.take(stage.id)
                continue
            }
            if let gate = stage.gate {
                let record = try await store.requestGate(stage.id, instructions: gate.instructions, simulatedSeconds: await simulatedNow())
                if record.status != .approved {
                    switch try await resolveGate(stage, instructions: gate.instructions) {
                    case .approve(let name, let note, let peopleTimePasses):
                        // In a rehearsal, the people's work the stage estimates passes on the simulated clock.
                        if peopleTimePasses, let duration = stage.estimatedDuration, let simulatedClock {
                            try await WaitReason.$current.withValue(.people) { try await simulatedClock.sleep(seconds: duration) }
                        }
                        _ = try await store.approveGate(stage.id, by: name, note: note, simulatedSeconds: await simulatedNow())
                        observer?.report(.gateApproved(id: stage.id, by: name))
                    case .pause:
                        try await store.setStageStatus(
                            stage.id, .waiting, message: "waiting at gate", simulatedSeconds: await simulatedNow())
                        try await store.setRunStatus(
                            .waiting, message: "paused at gate \(stage.id)", simulatedSeconds: await simulatedNow())
                        observer?.report(.gateWaiting(id: stage.id, instructions: gate.instructions))
                        return .pausedAtGate(stageID: stage.id, instructions: gate.instructions)
                    }
                }
            }

            stageRan = true
            try await store.setStageStatus(stage.id, .running, message: "\(stage.title) started", simulatedSeconds: await simulatedNow())
            let fresh: [PlannedOperation]?
            let handed = plannedStages?.take(stage.id) ?? item.plan
            if handed == nil, try await !store.operationCounts(stageID: stage.id).isEmpty {
                // Resumed with the inputs it was planned with: the checkpoint holds the plan (inserted in one transaction).
                try await store.retryFailed(stageID: stage.id)
                fresh = nil
            } else {
                let plan = try handed ?? kind.plan(snapshot, index: index)
                let inserted = try await store.insertPlanned(plan.operations, stageID: stage.id)
                let retried = try await store.retryFailed(stageID: stage.id)
                // A stage planned just now has exactly its plan pending; only a resumed stage is read back from the checkpoint.
                fresh = inserted == plan.operations.count && retried == 0 ? plan.operations.filter { $0.skip == nil } : nil
                for warning in plan.warnings { observer?.report(.warning("\(stage.id): \(warning)")) }
            }

            let context = StageContext(
                stage: stage, graph: graph, snapshot: snapshot, index: index, idMap: idMap,
                outputDirectory: options.outputDirectory, checkpoint: store)
            let (failed, mappings) = try await runOperations(of: stage, kind: kind, context: context, planned: fresh)
            if options.stop?.isRequested == true, try await store.operationCounts(stageID: stage.id)[.pending, default: 0] > 0 {
                return try await stopped(at: stage.id)
            }
            if failed > 0 {
                try await store.setStageStatus(
                    stage.id, .failed, message: "\(failed) operations failed", simulatedSeconds: await simulatedNow())
                try await store.setRunStatus(
                    .failed, message: "stopped after stage \(stage.id): \(failed) operations failed", simulatedSeconds: await simulatedNow()
                )
                observer?.report(.stageFinished(id: stage.id, status: .failed, counts: try await store.operationCounts(stageID: stage.id)))
                return .failed(stageID: stage.id, failedOperations: failed)
            }
            // The next stages see this stage's objects: the rows just committed, applied as the checkpoint applied them
            // (re-reading the whole map after every stage costs seconds on a tenant of 100,000 users).
            for mapping in mappings { idMap.record(mapping) }
            let finishedContext = StageContext(
                stage: stage, graph: graph, snapshot: snapshot, index: index, idMap: idMap,
                outputDirectory: options.outputDirectory, checkpoint: store)
            if mode.writesToTarget {
                try await kind.finish(in: finishedContext)
                try await options.commitTarget?()
            }
            try await store.setStageStatus(stage.id, .done, message: "\(stage.title) done", simulatedSeconds: await simulatedNow())
            observer?.report(.stageFinished(id: stage.id, status: .done, counts: try await store.operationCounts(stageID: stage.id)))
        }
        try await store.setRunStatus(.done, message: "all \(prepared.count) stages done", simulatedSeconds: await simulatedNow())
        return .completed
    }

    /// How a gate that is not approved yet is settled: a dry run passes it (nothing is written), a decider (an operator at a
    /// prompt) decides it, otherwise ``ExecutorOptions/gates`` does.
    private func resolveGate(_ stage: Runbook.Stage, instructions: String) async throws -> GateResolution {
        if !mode.writesToTarget {
            return .approve(by: "dry run", note: "passed without a decision (dry run: nothing is written)", peopleTimePasses: false)
        }
        if let decider = options.gateDecider {
            switch try await decider.decide(stage, instructions: instructions) {
            case .approve(let name, let note): return .approve(by: name, note: note ?? "approved at the prompt", peopleTimePasses: false)
            case .pause: return .pause
            }
        }
        switch options.gates {
        case .autoApprove(let name): return .approve(by: name, note: "approved automatically (tabletop)", peopleTimePasses: true)
        case .pause: return .pause
        }
    }

    /// Records a clean stop asked for by the operator.
    private func stopped(at stageID: String?) async throws -> RunOutcome {
        if let stageID {
            try await store.setStageStatus(
                stageID, .pending, message: "stopped by the operator between operations", simulatedSeconds: await simulatedNow())
        }
        try await store.setRunStatus(
            .pending, message: "stopped by the operator" + (stageID.map { " during stage \($0)" } ?? ""),
            simulatedSeconds: await simulatedNow())
        try await store.append(.runStopped(stageID: stageID), simulated: await simulatedNow())
        return .stopped(stageID: stageID)
    }

    /// Hands memory the process freed back to the system: glibc keeps freed pages for reuse, so without it a plan let
    /// go (hundreds of megabytes at 100,000 users) stays in the resident set while the stages after it allocate anew.
    /// Measured on the 100,000-user tabletop: peak RSS 1,422 MiB without it, 1,233 MiB with it.
    static func returnFreedMemory() {
        #if canImport(Glibc)
            _ = glibcMallocTrim(0)
        #endif
    }

    func simulatedNow() async -> Double? {
        guard let simulatedClock else { return nil }
        return await simulatedClock.now().timeIntervalSince(simulatedEpoch)
    }

    func crashIfDue(_ point: SimulatedCrash.Point, stage: String, passed: Int) async {
        guard let crash = options.crash, crash.point == point, crash.stageID == nil || crash.stageID == stage else { return }
        if crashCounter.add(passed) >= crash.afterOperations {
            // What the target applied stays applied: the crash is the operator's machine, not Graph.
            try? await options.commitTarget?()
            FileHandle.standardError.write(Data("lifeboat: simulated crash (\(point.rawValue)) — the process is killed now\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}

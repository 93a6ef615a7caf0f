import LifeboatRunbook
import Synchronization

/// A runbook stage with its kind (options checked) and its plan for one snapshot.
package struct PreparedStage: Sendable {
    package let stage: Runbook.Stage
    package let kind: any StageKind
    package let plan: StagePlan

    package init(stage: Runbook.Stage, kind: any StageKind, plan: StagePlan) {
        self.stage = stage
        self.kind = kind
        self.plan = plan
    }
}

/// A stage-level failure of one operation that is not a Graph error (e.g. an unresolvable reference).
package struct StageOperationError: Error, Sendable {
    package var code: String
    package var message: String
    package init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// A run's stage plans, made before its first write and handed to the executor, which takes each stage's plan once
/// when it reaches the stage, so the plan is let go as soon as its operations are in the checkpoint. Held to the end of
/// the run they were about 230 MB of a 100,000-user tabletop's peak (heaptrack).
///
/// Only the first stages' plans are kept, up to ``heldOperations`` operations: the others were made to validate the
/// runbook against the snapshot and to count, and the executor plans each again when it reaches it (planning is a pure
/// function of the snapshot and the stage, as a resume relies on). Kept until their stages ran, the plans of a
/// 100,000-user run's later stages (managers, memberships, renames, verify) were about 170 MB of its peak heap.
package final class PlannedStages: Sendable {
    /// Each stage's id and operation count, in runbook order (what a scenario's triggers and a prompt's kills read).
    package let counts: [(stageID: String, operations: Int)]
    private let plans: Mutex<[String: StagePlan]>

    /// How many planned operations are kept for the executor (a few tens of MB); the first stage with operations is
    /// kept whatever its size, so the first write never waits for planning again.
    package static let heldOperations = 100_000

    package init(_ prepared: [PreparedStage], holding limit: Int = heldOperations) {
        counts = prepared.map { ($0.stage.id, $0.plan.operations.count) }
        var held: [String: StagePlan] = [:]
        var operations = 0
        for stage in prepared where held[stage.stage.id] == nil {
            let size = stage.plan.operations.count
            if operations > 0 && operations + size > limit { break }
            held[stage.stage.id] = stage.plan
            operations += size
        }
        plans = Mutex(held)
    }

    /// The stage's plan, the first time it is asked for; `nil` afterwards (the checkpoint holds its operations).
    package func take(_ stageID: String) -> StagePlan? {
        plans.withLock { $0.removeValue(forKey: stageID) }
    }
}

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
package final class PlannedStages: Sendable {
    /// Each stage's id and operation count, in runbook order (what a scenario's triggers and a prompt's kills read).
    package let counts: [(stageID: String, operations: Int)]
    private let plans: Mutex<[String: StagePlan]>

    package init(_ prepared: [PreparedStage]) {
        counts = prepared.map { ($0.stage.id, $0.plan.operations.count) }
        plans = Mutex(Dictionary(prepared.map { ($0.stage.id, $0.plan) }, uniquingKeysWith: { first, _ in first }))
    }

    /// The stage's plan, the first time it is asked for; `nil` afterwards (the checkpoint holds its operations).
    package func take(_ stageID: String) -> StagePlan? {
        plans.withLock { $0.removeValue(forKey: stageID) }
    }
}

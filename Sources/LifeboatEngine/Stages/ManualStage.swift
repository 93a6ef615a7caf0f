import LifeboatRunbook
import LifeboatSnapshot

/// `manual`: work only people can do (create the tenant, publish DNS records, approve a step).
/// The stage is its gate: the run pauses until someone approves it.
struct ManualStage: StageKind {
    static let spec = StageKindSpec(
        name: "manual", summary: "nothing: a step for people (create the tenant, publish DNS), held by its gate", options: [])

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        guard stage.gate != nil else {
            throw StageConfigurationError(
                stageID: stage.id, problem: "a manual stage needs a `gate:` with the instructions to follow",
                hint: "add `gate: { instructions: \"...\" }`")
        }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan { StagePlan() }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        OperationOutcome(.unchanged)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }
}

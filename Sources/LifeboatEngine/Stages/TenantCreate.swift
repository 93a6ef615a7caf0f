import LifeboatGraph
import LifeboatRunbook
import LifeboatSnapshot

/// `tenant.create`: workforce tenants have no creation API, so this is a gate with exact instructions;
/// once approved, Lifeboat reads the target's organization and records its tenant id and initial domain.
struct TenantCreate: StageKind {
    static let spec = StageKindSpec(
        name: "tenant.create",
        summary: "a gate with the instructions for creating the tenant; then records the target's tenant id and initial domain", options: []
    )

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        guard stage.gate != nil else {
            throw StageConfigurationError(
                stageID: stage.id, problem: "tenant.create needs a `gate:` with the instructions for creating the tenant")
        }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan { StagePlan() }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome { OperationOutcome(.unchanged) }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }

    func finish(in context: StageContext) async throws {
        let organization = try await context.graph.list("/organization").first ?? [:]
        let domains = organization["verifiedDomains"]?.arrayValue ?? []
        let initial = domains.first { $0["isInitial"]?.boolValue == true }?["name"]?.stringValue ?? "?"
        try await context.checkpoint.append(
            .tenantRecorded(stageID: context.stage.id, tenantID: organization["id"]?.stringValue ?? "?", initialDomain: initial),
            simulated: nil)
    }
}

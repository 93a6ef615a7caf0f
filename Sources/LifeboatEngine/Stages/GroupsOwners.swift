import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `groups.owners`: adds owners one `$ref` at a time (Graph answers 400 when one already is, which counts as done).
struct GroupsOwners: StageKind {
    static let spec = StageKindSpec(name: "groups.owners", summary: "group owners", options: [])

    let relationship = GroupRelationship(name: "owners")

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        relationship.plan(snapshot, references: \.owners, skipDynamic: false)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if let skipped = relationship.unrestoredGroup(operation, in: context) { return skipped }
        let (groupID, ids, followUps) = try relationship.resolve(operation, in: context)
        guard !ids.isEmpty else { return OperationOutcome(.skipped, followUps: followUps) }
        var added = 0
        for id in ids {
            if try await addOwner(id, to: groupID, in: context) { added += 1 }
        }
        return OperationOutcome(added > 0 ? .applied : .unchanged, followUps: followUps)
    }

    /// Adds one owner; `false` when it already was one.
    private func addOwner(_ id: String, to groupID: String, in context: StageContext) async throws -> Bool {
        let request = GraphRequest("POST", "/groups/\(groupID)/owners/$ref", body: ["@odata.id": relationship.reference(id, in: context)])
        do {
            _ = try await context.graph.send(request)
            return true
        } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
            return false
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await relationship.reconcile(operation, in: context)
    }
}

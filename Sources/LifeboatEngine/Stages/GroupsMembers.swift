import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `groups.members`: adds members with `PATCH /groups/{id}` and `members@odata.bind`, 20 per request.
/// Dynamic groups are skipped: Entra computes their members from the rule.
struct GroupsMembers: StageKind {
    static let spec = StageKindSpec(
        name: "groups.members", summary: "direct memberships, nested groups included, 20 per `members@odata.bind`; dynamic groups skipped",
        options: [])

    let relationship = GroupRelationship(name: "members")
    /// The members of each group this run did not create (found in place or restored), read once per group.
    let presentMembers = SharedReads<Set<String>>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        relationship.plan(snapshot, references: \.members, skipDynamic: true)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if let skipped = relationship.unrestoredGroup(operation, in: context) { return skipped }
        let (groupID, resolved, followUps) = try relationship.resolve(operation, in: context)
        var ids = resolved
        guard !ids.isEmpty else { return OperationOutcome(.skipped, followUps: followUps) }
        // A group this run created starts empty; one it found in place may hold some members already: bind only the
        // missing ones, and write nothing when none is (one read per group instead of a refused write per chunk).
        if context.idMap.entry(for: operation.sourceID)?.how != .created {
            let present = try await presentMembers.value(groupID) { [relationship] in try await relationship.current(groupID, in: context) }
            ids = ids.filter { !present.contains($0) }
            guard !ids.isEmpty else { return OperationOutcome(.unchanged, followUps: followUps) }
        }
        do {
            try await bind(ids, to: groupID, in: context)
            return OperationOutcome(.applied, followUps: followUps)
        } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
            // Some are members already (a resumed or repeated run): the bind is all-or-nothing, so add only the rest.
            let present = try await relationship.current(groupID, in: context)
            let missing = ids.filter { !present.contains($0) }
            guard !missing.isEmpty else { return OperationOutcome(.unchanged, followUps: followUps) }
            try await bind(missing, to: groupID, in: context)
            return OperationOutcome(.applied, followUps: followUps)
        }
    }

    private func bind(_ ids: [String], to groupID: String, in context: StageContext) async throws {
        let body: JSONValue = ["members@odata.bind": .array(ids.map { relationship.reference($0, in: context) })]
        _ = try await context.graph.send(GraphRequest("PATCH", "/groups/\(groupID)", body: body))
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await relationship.reconcile(operation, in: context)
    }
}

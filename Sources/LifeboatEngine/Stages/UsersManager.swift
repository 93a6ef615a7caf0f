import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `users.manager`: restores manager chains (`PUT /users/{id}/manager/$ref`).
struct UsersManager: StageKind {
    static let spec = StageKindSpec(name: "users.manager", summary: "manager chains", options: ObjectSelection.options)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        let members = selection.members(in: snapshot)
        return StagePlan(
            operations: snapshot.users.compactMap { user in
                guard let manager = user.manager, selection.selects(user, memberIDs: members) else { return nil }
                return PlannedOperation(
                    key: "manager:\(user.id)", objectType: nil, sourceID: user.id, naturalKey: nil, displayName: user.displayName,
                    detail: ["manager": .string(manager.id)])
            })
    }

    func resolve(_ operation: PlannedOperation, in context: StageContext) -> (user: String, manager: String)? {
        guard let user = context.idMap.newID(for: operation.sourceID), let old = operation.detail["manager"]?.stringValue,
            let manager = context.idMap.newID(for: old)
        else { return nil }
        return (user, manager)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let (user, manager) = resolve(operation, in: context) else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference",
                        message: "the manager of \(operation.displayName) was not restored (or the user was not)",
                        action: "set the manager by hand once both accounts exist")
                ])
        }
        // A user this run did not create (restored or found in place) may still have the right manager: leave it untouched.
        if context.idMap.entry(for: operation.sourceID)?.how != .created, try await reconcile(operation, in: context) != nil {
            return OperationOutcome(.unchanged)
        }
        _ = try await context.graph.send(
            GraphRequest(
                "PUT", "/users/\(user)/manager/$ref",
                body: ["@odata.id": .string("\(context.graph.baseURL)/users/\(manager)")]))
        return OperationOutcome(.applied)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let (user, manager) = resolve(operation, in: context) else { return nil }
        let current = try? await context.graph.get("/users/\(user)/manager", query: [QueryItem("$select", "id")])
        return current?["id"]?.stringValue == manager ? OperationOutcome(.applied) : nil
    }
}

import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `roles.assign`: directory role assignments with tenant, administrative-unit and application scopes,
/// every reference remapped.
struct RolesAssign: StageKind {
    static let spec = StageKindSpec(
        name: "roles.assign", summary: "directory role assignments with tenant, administrative-unit and application scopes", options: [])

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.roleAssignments.map { assignment in
                let role =
                    snapshot.roleDefinitions.first { $0.id == assignment.roleDefinitionId }?.displayName ?? assignment.roleDefinitionId
                let principal =
                    index.users[assignment.principalId]?.displayName ?? index.groups[assignment.principalId]?.displayName
                    ?? assignment.principalId
                return PlannedOperation(
                    key: "roleAssignment:\(assignment.id)", objectType: nil, sourceID: assignment.id, naturalKey: nil,
                    displayName: "\(role) → \(principal)",
                    detail: [
                        "role": .string(assignment.roleDefinitionId), "principal": .string(assignment.principalId),
                        "scope": .string(assignment.directoryScopeId),
                    ])
            })
    }

    /// The assignment's role, principal and scope in the target, or what could not be resolved.
    func resolve(_ operation: PlannedOperation, in context: StageContext) -> Result<
        (role: String, principal: String, scope: String), FollowUp
    > {
        let oldRole = operation.detail["role"]?.stringValue ?? ""
        let oldPrincipal = operation.detail["principal"]?.stringValue ?? ""
        let oldScope = operation.detail["scope"]?.stringValue ?? "/"
        // Built-in roles keep their template id; custom roles come from the ID map.
        let builtIn =
            context.snapshot.roleDefinitions.first { $0.id == oldRole }.map { $0.isBuiltIn ? ($0.templateId ?? $0.id) : nil } ?? nil
        guard let role = context.idMap.newID(for: oldRole) ?? builtIn else {
            return .failure(
                FollowUp(
                    category: "unresolved-reference", message: "role \(oldRole) of \(operation.displayName) was not restored",
                    action: "restore the custom role (roles.definitions), then rerun"))
        }
        guard let principal = context.idMap.newID(for: oldPrincipal) else {
            return .failure(
                FollowUp(
                    category: "unresolved-reference", message: "the principal of \(operation.displayName) was not restored",
                    action: "assign the role by hand once the principal exists"))
        }
        var scope = oldScope
        if oldScope != "/" {
            let parts = oldScope.split(separator: "/").map(String.init)
            guard let old = parts.last, let new = context.idMap.newID(for: old) else {
                return .failure(
                    FollowUp(
                        category: "unresolved-reference", message: "the scope \(oldScope) of \(operation.displayName) was not restored",
                        action: "restore the administrative unit or application, then rerun"))
            }
            scope = parts.count == 2 ? "/\(parts[0])/\(new)" : "/\(new)"
        }
        return .success((role, principal, scope))
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        switch resolve(operation, in: context) {
        case .failure(let followUp):
            return OperationOutcome(.skipped, followUps: [followUp])
        case .success(let (role, principal, scope)):
            do {
                let created = try await context.graph.send(
                    GraphRequest(
                        "POST", "/roleManagement/directory/roleAssignments",
                        body: [
                            "roleDefinitionId": .string(role), "principalId": .string(principal), "directoryScopeId": .string(scope),
                        ]))
                return OperationOutcome(.applied, newID: created.object["id"]?.stringValue)
            } catch let error as GraphError where error.status == 400 && error.message.contains("conflicting object") {
                return try await reconcile(operation, in: context) ?? OperationOutcome(.unchanged)
            }
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard case .success(let (role, principal, scope)) = resolve(operation, in: context) else { return nil }
        let existing = try await context.graph.list(
            "/roleManagement/directory/roleAssignments",
            query: [QueryItem("$filter", "principalId eq \(GraphClient.literal(principal))")])
        for assignment in existing where assignment["roleDefinitionId"]?.stringValue == role {
            let existingScope = assignment["directoryScopeId"]?.stringValue ?? "/"
            if existingScope == scope { return OperationOutcome(.applied, newID: assignment["id"]?.stringValue) }
        }
        return nil
    }
}

import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `appRoleAssignments.create`: grants app roles again — to users, groups and service principals (application
/// permissions) — with `POST /servicePrincipals/{resource}/appRoleAssignedTo`. Principal and resource are remapped
/// through the ID map; the appRoleId is kept, since apps.create keeps role ids and Microsoft's are the same everywhere.
struct AppRoleAssignmentsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "appRoleAssignments.create",
        summary: "app role assignments to users, groups and service principals, principal and resource remapped, appRoleId kept",
        options: ObjectSelection.options)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let members = selection.members(in: snapshot)
        for assignment in snapshot.appRoleAssignments
        where selection.selects(assignment, principalID: assignment.principalId, memberIDs: members) {
            let principal = assignment.properties["principalDisplayName"]?.stringValue ?? assignment.principalId
            let resource = assignment.properties["resourceDisplayName"]?.stringValue ?? assignment.resourceId
            plan.operations.append(
                PlannedOperation(
                    key: "appRoleAssignment:\(assignment.id)", objectType: .appRoleAssignment, sourceID: assignment.id, naturalKey: nil,
                    displayName: "\(principal) → \(resource)",
                    detail: [
                        "principalId": .string(assignment.principalId), "resourceId": .string(assignment.resourceId),
                        "appRoleId": .string(assignment.appRoleId), "principalType": assignment.properties["principalType"] ?? .null,
                    ]))
        }
        return plan
    }

    /// The assignment's principal and resource in the target, or a follow-up saying which is missing.
    /// Principal and resource through the ID map, or unchanged when the target still has them (an in-place recovery).
    private func resolve(_ operation: PlannedOperation, in context: StageContext) async throws -> (
        principal: String, resource: String, role: String
    )? {
        guard let oldPrincipal = operation.detail["principalId"]?.stringValue,
            let oldResource = operation.detail["resourceId"]?.stringValue,
            let role = operation.detail["appRoleId"]?.stringValue,
            let principal = try await TargetReference.id(for: oldPrincipal, in: context),
            let resource = try await TargetReference.id(for: oldResource, in: context)
        else { return nil }
        return (principal, resource, role)
    }

    private func unresolved(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        var principalRestored = false
        if let oldPrincipal = operation.detail["principalId"]?.stringValue {
            principalRestored = try await TargetReference.id(for: oldPrincipal, in: context) != nil
        }
        let missing =
            principalRestored
            ? "its resource (the enterprise app)" : "its \(operation.detail["principalType"]?.stringValue?.lowercased() ?? "principal")"
        return OperationOutcome(
            .skipped,
            followUps: [
                FollowUp(
                    category: "unresolved-reference",
                    message:
                        "app role assignment \(operation.displayName) (role \(operation.detail["appRoleId"]?.stringValue ?? "?")) was not restored: \(missing) was not restored",
                    action: "restore \(missing), then rerun this stage; or assign the role by hand")
            ])
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard case let (principal, resource, role)? = try await resolve(operation, in: context) else {
            return try await unresolved(operation, in: context)
        }
        let body: JSONValue = ["principalId": .string(principal), "resourceId": .string(resource), "appRoleId": .string(role)]
        do {
            let response = try await context.graph.send(
                GraphRequest("POST", "/servicePrincipals/\(resource)/appRoleAssignedTo", body: body))
            guard let id = response.object["id"]?.stringValue else {
                throw StageOperationError(code: "MalformedResponse", message: "Graph created the assignment but returned no id")
            }
            return OperationOutcome(.created, newID: id)
        } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
            // Assigned already (an earlier attempt, or a second run): adopt it.
            if let adopted = try await reconcile(operation, in: context) { return adopted }
            throw error
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard case let (principal, resource, role)? = try await resolve(operation, in: context) else { return nil }
        let assigned = try await context.graph.list("/servicePrincipals/\(resource)/appRoleAssignedTo", query: [QueryItem("$top", "999")])
        guard
            let match = assigned.first(where: {
                $0["principalId"]?.stringValue?.lowercased() == principal.lowercased()
                    && $0["appRoleId"]?.stringValue?.lowercased() == role.lowercased()
            }), let id = match["id"]?.stringValue
        else { return nil }
        return OperationOutcome(.adopted, newID: id)
    }
}

import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `roles.definitions`: recreates custom directory roles; built-in roles are mapped by their template id,
/// which is the same in every tenant.
struct RolesDefinitions: StageKind {
    static let spec = StageKindSpec(
        name: "roles.definitions", summary: "custom directory roles; built-in roles mapped by their template id (the same in every tenant)",
        options: [adoptOption])

    static let writable: Set<String> = ["displayName", "description", "isEnabled", "rolePermissions", "resourceScopes"]

    let adoptExisting: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        adoptExisting = stage.options.bool("adoptExisting") ?? true
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.roleDefinitions.map { role in
                PlannedOperation(
                    key: "role:\(role.id)", objectType: .roleDefinition, sourceID: role.id, naturalKey: role.displayName,
                    displayName: role.displayName,
                    detail: ["builtIn": .bool(role.isBuiltIn), "templateId": role.templateId.map(JSONValue.string) ?? .null])
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        if operation.detail["builtIn"]?.boolValue == true {
            let template = operation.detail["templateId"]?.stringValue ?? operation.sourceID
            _ = try await context.graph.get("/roleManagement/directory/roleDefinitions/\(template)")
            return OperationOutcome(.adopted, newID: template, note: "built-in role, same template id in every tenant")
        }
        guard let role = context.snapshot.roleDefinitions.first(where: { $0.id == operation.sourceID }) else {
            throw StageOperationError(code: "SnapshotMismatch", message: "role \(operation.sourceID) is not in the snapshot")
        }
        let body = WritableProperties.pick(role.properties, Self.writable)
        let created = try await context.graph.send(GraphRequest("POST", "/roleManagement/directory/roleDefinitions", body: .object(body)))
        guard let id = created.object["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "no id returned")
        }
        return OperationOutcome(.created, newID: id)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        if operation.detail["builtIn"]?.boolValue == true { return nil }
        return try await DisplayNameLookup.adopt(operation, in: context, collection: "/roleManagement/directory/roleDefinitions")
    }
}

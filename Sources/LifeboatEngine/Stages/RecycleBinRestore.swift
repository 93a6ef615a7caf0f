import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `recycleBin.restore`, for an in-place restore: every object the snapshot holds is looked up in the
/// target by its original id. Still there: mapped to itself, untouched. In the recycle bin (deleted
/// within 30 days): restored with its original id. Gone for good: left to the create stages that follow.
struct RecycleBinRestore: StageKind {
    static let spec = StageKindSpec(
        name: "recycleBin.restore",
        summary:
            "in place: each snapshot object still present is mapped to itself and left untouched; one in the recycle bin (deleted within 30 days) is restored with its original id; the rest is left to the create stages",
        options: ObjectSelection.options)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        let members = selection.members(in: snapshot)
        var operations: [PlannedOperation] = []
        func add(_ object: some DirectoryObject, _ type: ObjectType, naturalKey: String?) {
            guard selection.selects(object, memberIDs: members) else { return }
            operations.append(
                PlannedOperation(
                    key: "recycle:\(object.id)", objectType: type, sourceID: object.id, naturalKey: naturalKey,
                    displayName: object.displayName))
        }
        for user in snapshot.users { add(user, .user, naturalKey: user.userPrincipalName) }
        for group in snapshot.groups { add(group, .group, naturalKey: group.uniqueName) }
        for unit in snapshot.administrativeUnits { add(unit, .administrativeUnit, naturalKey: unit.displayName) }
        for app in snapshot.applications {
            guard selection.selects(app, memberIDs: members) else { continue }
            operations.append(
                PlannedOperation(
                    key: "recycle:\(app.id)", objectType: .application, sourceID: app.id, naturalKey: app.uniqueName,
                    displayName: app.displayName, detail: ["appId": .string(app.appId)]))
        }
        for principal in snapshot.servicePrincipals where principal.appOwnerOrganizationId == snapshot.manifest.sourceTenantId {
            add(principal, .servicePrincipal, naturalKey: principal.appId)
        }
        return StagePlan(operations: operations)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if let present = try await find("/directoryObjects/\(operation.sourceID)", in: context) {
            return OperationOutcome(
                .adopted, newID: operation.sourceID, newAppID: present["appId"]?.stringValue, note: "still present; not touched")
        }
        guard try await find("/directory/deletedItems/\(operation.sourceID)", in: context) != nil else {
            return OperationOutcome(
                .unchanged, note: "not in the recycle bin (deleted for good, or over 30 days ago): recreated by a later stage")
        }
        let restored = try await context.graph.send(GraphRequest("POST", "/directory/deletedItems/\(operation.sourceID)/restore"))
        var followUps: [FollowUp] = []
        if operation.objectType == .application {
            followUps.append(
                FollowUp(
                    category: "restored-application",
                    message:
                        "application \(operation.displayName) was restored; restoring an application does not restore its service principal",
                    action: "check that servicePrincipals.create (or this stage) restored its enterprise application"))
        }
        return OperationOutcome(.applied, newID: operation.sourceID, newAppID: restored.object["appId"]?.stringValue, followUps: followUps)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let present = try await find("/directoryObjects/\(operation.sourceID)", in: context) else { return nil }
        return OperationOutcome(.applied, newID: operation.sourceID, newAppID: present["appId"]?.stringValue)
    }

    private func find(_ path: String, in context: StageContext) async throws -> JSONObject? {
        do {
            return try await context.graph.get(path)
        } catch let error as GraphError where error.status == 404 {
            return nil
        }
    }
}

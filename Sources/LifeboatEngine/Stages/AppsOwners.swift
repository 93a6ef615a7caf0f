import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `apps.owners`: restores the owners of applications and of service principals (as captured with
/// `$expand=owners`), one `$ref` at a time; Graph's 400 for an owner who already is one counts as done.
struct AppsOwners: StageKind {
    static let spec = StageKindSpec(
        name: "apps.owners", summary: "owners of applications and service principals (captured with `$expand=owners`)",
        options: ObjectSelection.whereOnly)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        func add(_ object: some DirectoryObject, collection: String) {
            let owners = EmbeddedReferences.of(object.properties, "owners").sorted { $0.id < $1.id }
            guard !owners.isEmpty, selection.selects(object, memberIDs: []) else { return }
            plan.operations.append(
                PlannedOperation(
                    key: "owners:\(object.id)", objectType: nil, sourceID: object.id, naturalKey: nil,
                    displayName: "\(object.displayName) owners",
                    detail: [
                        "collection": .string(collection), "refs": .array(owners.map { ["id": .string($0.id), "type": .string($0.type)] }),
                    ]))
        }
        for app in snapshot.applications { add(app, collection: "applications") }
        for principal in snapshot.servicePrincipals { add(principal, collection: "servicePrincipals") }
        return plan
    }

    private func resolve(_ operation: PlannedOperation, in context: StageContext) async throws -> (
        path: String, ids: [String], followUps: [FollowUp]
    ) {
        let collection = operation.detail["collection"]?.stringValue ?? "applications"
        guard let objectID = context.idMap.newID(for: operation.sourceID) else {
            throw StageOperationError(
                code: "UnresolvedReference",
                message:
                    "\(operation.displayName.replacingOccurrences(of: " owners", with: "")) was not restored, so its owners cannot be; restore it first"
            )
        }
        var ids: [String] = []
        var followUps: [FollowUp] = []
        for ref in operation.detail["refs"]?.arrayValue ?? [] {
            guard let oldID = ref["id"]?.stringValue else { continue }
            if let newID = try await TargetReference.id(for: oldID, in: context) {
                ids.append(newID)
            } else {
                let type = ref["type"]?.stringValue ?? "directoryObject"
                followUps.append(
                    FollowUp(
                        category: "unresolved-reference",
                        message: "\(type) \(oldID) was not restored, so it is not among the \(operation.displayName)",
                        action:
                            "restore that \(type) and rerun this stage, or name another owner; an app without owners is managed by admins only"
                    ))
            }
        }
        return ("/\(collection)/\(objectID)/owners", ids, followUps)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let (path, ids, followUps) = try await resolve(operation, in: context)
        guard !ids.isEmpty else { return OperationOutcome(.skipped, followUps: followUps) }
        var added = 0
        for id in ids {
            let request = GraphRequest(
                "POST", "\(path)/$ref", body: ["@odata.id": .string("\(context.graph.baseURL)/directoryObjects/\(id)")])
            do {
                try await FollowOnWrite.send(request, in: context) { try await owners(path, in: context).contains(id) }
                added += 1
            } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
                continue
            }
        }
        return OperationOutcome(added > 0 ? .applied : .unchanged, followUps: followUps)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let (path, ids, followUps) = try await resolve(operation, in: context)
        let present = try await owners(path, in: context)
        return ids.allSatisfy(present.contains) ? OperationOutcome(.applied, followUps: followUps) : nil
    }

    private func owners(_ path: String, in context: StageContext) async throws -> Set<String> {
        Set(
            try await context.graph.list(path, query: [QueryItem("$select", "id"), QueryItem("$top", "999")]).compactMap {
                $0["id"]?.stringValue
            })
    }
}

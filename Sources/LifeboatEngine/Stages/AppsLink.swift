import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `apps.link`: once every restored application has its new appId, rewrites the references between them —
/// `requiredResourceAccess[].resourceAppId`, `api.knownClientApplications` and `api.preAuthorizedApplications[].appId`.
/// Microsoft's and other organizations' appIds are the same in every tenant and stay as they are.
struct AppsLink: StageKind {
    static let spec = StageKindSpec(
        name: "apps.link",
        summary:
            "rewrites `requiredResourceAccess`, `api.knownClientApplications` and `api.preAuthorizedApplications` from old to new appIds of restored apps (Microsoft's stay); references to apps not restored become follow-ups",
        options: ObjectSelection.whereOnly)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    /// Every appId an application refers to.
    static func referencedAppIDs(_ properties: JSONObject) -> [String] {
        var ids = (properties["requiredResourceAccess"]?.arrayValue ?? []).compactMap { $0["resourceAppId"]?.stringValue }
        ids += properties["api"]?["knownClientApplications"]?.stringArray ?? []
        ids += (properties["api"]?["preAuthorizedApplications"]?.arrayValue ?? []).compactMap { $0["appId"]?.stringValue }
        return ids
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let source = snapshot.manifest.sourceTenantId
        let external = Set(
            snapshot.servicePrincipals.filter {
                ExternalApps.isExternal(appId: $0.appId, owner: $0.appOwnerOrganizationId, sourceTenantID: source)
            }.map { $0.appId.lowercased() })
        for app in snapshot.applications where selection.selects(app, memberIDs: []) {
            // Only applications that refer to something other than Microsoft's or another organization's apps need a pass.
            let local = Self.referencedAppIDs(app.properties).filter {
                !external.contains($0.lowercased()) && ExternalApps.wellKnownAppIDs[$0.lowercased()] == nil
            }
            guard !local.isEmpty else { continue }
            plan.operations.append(
                PlannedOperation(
                    key: "link:\(app.id)", objectType: nil, sourceID: app.id, naturalKey: nil, displayName: app.displayName,
                    detail: ["appId": .string(app.appId), "references": .array(Set(local).sorted().map(JSONValue.string))]))
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let (id, changes, followUps) = try await rewrite(operation, in: context)
        guard !changes.isEmpty else { return OperationOutcome(.unchanged, followUps: followUps) }
        try await FollowOnWrite.send(GraphRequest("PATCH", "/applications/\(id)", body: .object(changes)), in: context) {
            try await rewrite(operation, in: context).changes.isEmpty
        }
        return OperationOutcome(.applied, followUps: followUps, note: "rewrote \(changes.keys.sorted().joined(separator: ", "))")
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let (_, changes, followUps) = try await rewrite(operation, in: context)
        return changes.isEmpty ? OperationOutcome(.applied, followUps: followUps) : nil
    }

    /// The application's target id, the properties that still name old appIds (rewritten), and follow-ups for
    /// references that cannot be rewritten. Computed from the target, so a second pass finds nothing to change.
    private func rewrite(_ operation: PlannedOperation, in context: StageContext) async throws -> (
        id: String, changes: JSONObject, followUps: [FollowUp]
    ) {
        guard let id = context.idMap.newID(for: operation.sourceID) else {
            throw StageOperationError(
                code: "UnresolvedReference",
                message:
                    "application \(operation.displayName) was not restored, so its references cannot be rewritten; run apps.create first")
        }
        let current = try await context.graph.get(
            "/applications/\(id)", query: [QueryItem("$select", "id,appId,requiredResourceAccess,api")])
        let apps = AppIDMap(idMap: context.idMap, snapshot: context.snapshot)
        var followUps: [FollowUp] = []
        var reported = Set<String>()
        func map(_ appId: String, _ place: String) -> String {
            switch apps.resolve(appId) {
            case .restored(let new): return new
            case .external: return appId
            case .notRestored(let name):
                if reported.insert(appId).inserted {
                    followUps.append(
                        FollowUp(
                            category: "unresolved-reference",
                            message:
                                "\(operation.displayName) refers to \(name) (old appId \(appId)) in \(place), but \(name) was not restored",
                            action:
                                "restore \(name) (apps.create) and rerun apps.link, or remove the reference from \(operation.displayName)"))
                }
                return appId
            case .unknown:
                // Already rewritten.
                if apps.newAppIDs.values.contains(where: { $0.caseInsensitiveCompare(appId) == .orderedSame }) { return appId }
                if reported.insert(appId).inserted {
                    followUps.append(
                        FollowUp(
                            category: "unresolved-reference",
                            message:
                                "\(operation.displayName) refers to appId \(appId) in \(place), an app that is neither in the snapshot nor known",
                            action: "check whether that app still exists; update or remove the reference in \(operation.displayName)"))
                }
                return appId
            }
        }

        var changes: JSONObject = [:]
        if let access = current["requiredResourceAccess"]?.arrayValue {
            let mapped: [JSONValue] = access.map { entry in
                guard var object = entry.objectValue, let appId = object["resourceAppId"]?.stringValue else { return entry }
                object["resourceAppId"] = .string(map(appId, "requiredResourceAccess"))
                return .object(object)
            }
            if mapped != access { changes["requiredResourceAccess"] = .array(mapped) }
        }
        if var api = current["api"]?.objectValue {
            let before = api
            if let known = api["knownClientApplications"]?.stringArray {
                api["knownClientApplications"] = .array(known.map { .string(map($0, "api.knownClientApplications")) })
            }
            if let preAuthorized = api["preAuthorizedApplications"]?.arrayValue {
                api["preAuthorizedApplications"] = .array(
                    preAuthorized.map { entry in
                        guard var object = entry.objectValue, let appId = object["appId"]?.stringValue else { return entry }
                        object["appId"] = .string(map(appId, "api.preAuthorizedApplications"))
                        return .object(object)
                    })
            }
            // The whole `api` as the target has it, with only the two lists rewritten: scopes are sent back unchanged.
            if api != before { changes["api"] = .object(api) }
        }
        return (id, changes, followUps)
    }
}

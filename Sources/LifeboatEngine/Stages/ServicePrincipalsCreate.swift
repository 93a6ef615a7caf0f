import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `servicePrincipals.create`: brings back enterprise applications.
///
/// - The service principal of an application restored by `apps.create` is upserted by its new appId
///   (`PATCH /servicePrincipals(appId='…')`, `Prefer: create-if-missing`) with its tenant settings.
/// - Microsoft's and other organizations' apps keep their appId: their service principal is looked up and
///   adopted (created by appId only if the target lacks it), never copied; only `accountEnabled` and
///   `appRoleAssignmentRequired` are carried over.
/// - Anything else (managed identities, apps whose registration was not captured) is a follow-up.
struct ServicePrincipalsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "servicePrincipals.create",
        summary:
            "enterprise apps: upsert `PATCH /servicePrincipals(appId=…)` for restored apps; Microsoft's and other organizations' apps are adopted by appId (created by appId only if missing), keeping `accountEnabled` and `appRoleAssignmentRequired`; managed identities and apps not in the snapshot become follow-ups",
        options: ObjectSelection.options)

    enum Origin: String {
        /// The source tenant's own application: restored by apps.create.
        case tenant
        /// Microsoft's or another organization's application.
        case external
    }

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let source = snapshot.manifest.sourceTenantId
        let tenantApps = Set(snapshot.applications.map { $0.appId.lowercased() })
        let members = selection.members(in: snapshot)
        for principal in snapshot.servicePrincipals where selection.selects(principal, memberIDs: members) {
            let type = principal.properties["servicePrincipalType"]?.stringValue ?? "Application"
            var origin: Origin?
            var skip: FollowUp?
            if type == "ManagedIdentity" {
                skip = FollowUp(
                    category: "managed-identity", message: "\(principal.displayName) is the service principal of an Azure managed identity",
                    action: "re-create or re-enable the managed identity on its Azure resource; Entra creates its service principal")
            } else if tenantApps.contains(principal.appId.lowercased()) {
                origin = .tenant
            } else if ExternalApps.isExternal(appId: principal.appId, owner: principal.appOwnerOrganizationId, sourceTenantID: source) {
                origin = .external
            } else {
                skip = FollowUp(
                    category: "unrestorable-app",
                    message:
                        "\(principal.displayName) (appId \(principal.appId)) belongs to an application of the source tenant that is not in the snapshot",
                    action: "register the application again, then create its enterprise app and restore its assignments by hand")
            }
            plan.operations.append(
                PlannedOperation(
                    key: "servicePrincipal:\(principal.id)", objectType: .servicePrincipal, sourceID: principal.id,
                    naturalKey: origin == .external ? principal.appId : nil, displayName: principal.displayName,
                    detail: ["appId": .string(principal.appId), "origin": origin.map { .string($0.rawValue) } ?? .null], skip: skip))
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let principal = try source(operation, in: context)
        switch operation.detail["origin"]?.stringValue {
        case Origin.tenant.rawValue?:
            guard let appId = targetAppID(operation, in: context) else { return notRestored(principal) }
            var body = WritableProperties.pick(principal.properties, WritableProperties.servicePrincipal)
            body["appId"] = nil
            let response = try await FollowOnWrite.waitingForReplication(in: context) {
                try await context.graph.send(
                    GraphRequest(
                        "PATCH", "/servicePrincipals(appId=\(GraphClient.literal(appId)))", headers: ["Prefer": "create-if-missing"],
                        body: .object(body)))
            }
            if response.status == 201, let id = response.object["id"]?.stringValue {
                return OperationOutcome(.created, newID: id, newAppID: appId)
            }
            // 204: the application's service principal already existed and was updated.
            guard let adopted = try await TargetLookup.settling(context.graph, { try await reconcile(operation, in: context) }) else {
                throw StageOperationError(
                    code: "UpsertUnconfirmed", message: "the upsert of the service principal of \(appId) succeeded but it cannot be found")
            }
            return adopted
        case Origin.external.rawValue?:
            if let found = try await find(principal.appId, in: context), let id = found["id"]?.stringValue {
                try await carrySettings(principal, to: found, in: context)
                return OperationOutcome(
                    .adopted, newID: id, newAppID: principal.appId, note: "Microsoft's or another organization's app: adopted, not copied")
            }
            do {
                let created = try await context.graph.send(
                    GraphRequest("POST", "/servicePrincipals", body: ["appId": .string(principal.appId)]))
                guard let id = created.object["id"]?.stringValue else {
                    throw StageOperationError(
                        code: "MalformedResponse", message: "Graph created the service principal of \(principal.appId) but returned no id")
                }
                try await carrySettings(principal, to: created.object, in: context)
                return OperationOutcome(.created, newID: id, newAppID: principal.appId, note: "created by appId from the multi-tenant app")
            } catch let error as GraphError where error.status == 409 {
                guard let adopted = try await reconcile(operation, in: context) else { throw error }
                return adopted
            } catch let error as GraphError where error.code == "NoBackingApplicationObject" {
                return OperationOutcome(
                    .skipped,
                    followUps: [
                        FollowUp(
                            category: "unrestorable-app",
                            message:
                                "\(principal.displayName) (appId \(principal.appId)) is another organization's app that the target tenant cannot add by appId",
                            action:
                                "have an administrator consent to \(principal.displayName) again (its sign-in or admin-consent URL), then rerun to adopt it"
                        )
                    ])
            }
        default:
            return notRestored(principal)
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let principal = try source(operation, in: context)
        let external = operation.detail["origin"]?.stringValue == Origin.external.rawValue
        guard let appId = external ? principal.appId : targetAppID(operation, in: context),
            let found = try await find(appId, in: context), let id = found["id"]?.stringValue
        else { return nil }
        return OperationOutcome(.adopted, newID: id, newAppID: appId)
    }

    private func source(_ operation: PlannedOperation, in context: StageContext) throws -> ServicePrincipal {
        guard let principal = context.index.servicePrincipals[operation.sourceID] else {
            throw StageOperationError(code: "SnapshotMismatch", message: "service principal \(operation.sourceID) is not in the snapshot")
        }
        return principal
    }

    /// The new appId of the restored application behind a tenant app's service principal.
    private func targetAppID(_ operation: PlannedOperation, in context: StageContext) -> String? {
        guard let old = operation.detail["appId"]?.stringValue else { return nil }
        return context.idMap.newAppID(forOldAppID: old)
    }

    private func find(_ appId: String, in context: StageContext) async throws -> JSONObject? {
        try await TargetLookup.find(
            context.graph, "/servicePrincipals", where: "appId", equals: appId,
            select: "id,appId,displayName,accountEnabled,appRoleAssignmentRequired")
    }

    private func notRestored(_ principal: ServicePrincipal) -> OperationOutcome {
        OperationOutcome(
            .skipped,
            followUps: [
                FollowUp(
                    category: "unresolved-reference",
                    message:
                        "the application of \(principal.displayName) (old appId \(principal.appId)) was not restored, so its service principal cannot be",
                    action: "restore the application (apps.create), then rerun this stage")
            ])
    }

    /// Carries the tenant's own settings (disabled, assignment required) over to an adopted service principal.
    private func carrySettings(_ principal: ServicePrincipal, to target: JSONObject, in context: StageContext) async throws {
        guard let id = target["id"]?.stringValue else { return }
        let wanted = WritableProperties.pick(principal.properties, WritableProperties.externalServicePrincipal)
        let changes = wanted.filter { key, value in target[key] != value && !(target[key] == nil && value == .bool(key == "accountEnabled"))
        }
        guard !changes.isEmpty else { return }
        try await FollowOnWrite.send(GraphRequest("PATCH", "/servicePrincipals/\(id)", body: .object(changes)), in: context) {
            let now = try await context.graph.get(
                "/servicePrincipals/\(id)", query: [QueryItem("$select", "id,accountEnabled,appRoleAssignmentRequired")])
            return changes.allSatisfy { now[$0.key] == $0.value }
        }
    }
}

import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `oauth2Grants.create`: restores delegated-permission consent — admin consent (`AllPrincipals`) and per-user
/// consent (`Principal`) — with client, resource and user remapped through the ID map and the same scopes, so users
/// are not asked to consent again.
struct OAuth2GrantsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "oauth2Grants.create",
        summary: "admin (`AllPrincipals`) and per-user (`Principal`) consent grants, client, resource and user remapped, same scope",
        options: ObjectSelection.options)

    let selection: ObjectSelection

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        selection = ObjectSelection(stage.options)
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let members = selection.members(in: snapshot)
        for grant in snapshot.oauth2PermissionGrants where selection.selects(grant, principalID: grant.principalId, memberIDs: members) {
            let client = index.servicePrincipals[grant.clientId]?.displayName ?? grant.clientId
            let resource = index.servicePrincipals[grant.resourceId]?.displayName ?? grant.resourceId
            let who =
                grant.consentType == "AllPrincipals"
                ? "all users" : (grant.principalId.flatMap { index.users[$0]?.userPrincipalName } ?? grant.principalId ?? "?")
            var skip: FollowUp?
            if grant.consentType == "Principal", grant.principalId == nil {
                skip = FollowUp(
                    category: "unresolved-reference", message: "a per-user grant of \(client) to \(resource) names no user",
                    action: "nothing to restore; the user consents again at next sign-in")
            }
            plan.operations.append(
                PlannedOperation(
                    key: "oauth2PermissionGrant:\(grant.id)", objectType: .oauth2PermissionGrant, sourceID: grant.id, naturalKey: nil,
                    displayName: "\(client) → \(resource) for \(who)",
                    detail: [
                        "clientId": .string(grant.clientId), "resourceId": .string(grant.resourceId),
                        "consentType": .string(grant.consentType),
                        "principalId": grant.principalId.map(JSONValue.string) ?? .null, "scope": .string(grant.scope),
                    ],
                    skip: skip))
        }
        return plan
    }

    struct Resolved {
        var clientID: String
        var resourceID: String
        var consentType: String
        var principalID: String?
        var scope: String
    }

    /// Client, resource and user through the ID map, or unchanged when the target still has them (an in-place recovery).
    private func resolve(_ operation: PlannedOperation, in context: StageContext) async throws -> Resolved? {
        let detail = operation.detail
        guard let oldClient = detail["clientId"]?.stringValue, let oldResource = detail["resourceId"]?.stringValue,
            let consent = detail["consentType"]?.stringValue,
            let client = try await TargetReference.id(for: oldClient, in: context),
            let resource = try await TargetReference.id(for: oldResource, in: context)
        else { return nil }
        var principal: String?
        if consent == "Principal" {
            guard let oldPrincipal = detail["principalId"]?.stringValue,
                let mapped = try await TargetReference.id(for: oldPrincipal, in: context)
            else { return nil }
            principal = mapped
        }
        return Resolved(
            clientID: client, resourceID: resource, consentType: consent, principalID: principal, scope: detail["scope"]?.stringValue ?? "")
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let grant = try await resolve(operation, in: context) else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference",
                        message:
                            "consent \(operation.displayName) (\(operation.detail["scope"]?.stringValue ?? "")) was not restored: its client app, resource or user was not restored",
                        action: "restore them, then rerun this stage; or grant consent again in the Entra admin center")
                ])
        }
        var body: JSONObject = [
            "clientId": .string(grant.clientID), "consentType": .string(grant.consentType),
            "resourceId": .string(grant.resourceID), "scope": .string(grant.scope),
        ]
        if let principal = grant.principalID { body["principalId"] = .string(principal) }
        do {
            let response = try await context.graph.send(GraphRequest("POST", "/oauth2PermissionGrants", body: .object(body)))
            guard let id = response.object["id"]?.stringValue else {
                throw StageOperationError(code: "MalformedResponse", message: "Graph created the grant but returned no id")
            }
            return OperationOutcome(.created, newID: id)
        } catch let error as GraphError where error.status == 409 {
            // The grant exists (an earlier attempt, or consent given since): adopt it, adding scopes it lacks.
            guard let existing = try await find(grant, in: context), let id = existing["id"]?.stringValue else { throw error }
            let missing = Self.scopes(grant.scope).subtracting(Self.scopes(existing["scope"]?.stringValue ?? ""))
            if !missing.isEmpty {
                let scope = ((existing["scope"]?.stringValue ?? "").split(separator: " ").map(String.init) + missing.sorted()).joined(
                    separator: " ")
                try await FollowOnWrite.send(
                    GraphRequest("PATCH", "/oauth2PermissionGrants/\(id)", body: ["scope": .string(scope)]), in: context
                ) {
                    Self.scopes(try await find(grant, in: context)?["scope"]?.stringValue ?? "").isSuperset(of: Self.scopes(grant.scope))
                }
            }
            return OperationOutcome(
                .adopted, newID: id, note: missing.isEmpty ? nil : "added scopes \(missing.sorted().joined(separator: " "))")
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let grant = try await resolve(operation, in: context), let found = try await find(grant, in: context),
            let id = found["id"]?.stringValue,
            Self.scopes(found["scope"]?.stringValue ?? "").isSuperset(of: Self.scopes(grant.scope))
        else { return nil }
        return OperationOutcome(.adopted, newID: id)
    }

    /// The grant of the same client, resource, consent type and user in the target.
    private func find(_ grant: Resolved, in context: StageContext) async throws -> JSONObject? {
        let grants = try await context.graph.list(
            "/oauth2PermissionGrants", query: [QueryItem("$filter", "clientId eq \(GraphClient.literal(grant.clientID))")])
        return grants.first {
            $0["resourceId"]?.stringValue == grant.resourceID && $0["consentType"]?.stringValue == grant.consentType
                && $0["principalId"]?.stringValue == grant.principalID
        }
    }

    static func scopes(_ text: String) -> Set<String> { Set(text.split(separator: " ").map(String.init)) }
}

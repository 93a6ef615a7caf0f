import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `conditionalAccess.create`: recreates Conditional Access policies with every user, group, role,
/// application (by appId) and location reference remapped and keywords kept. Policies land in
/// report-only (or disabled) first; a policy with a reference that cannot be resolved lands disabled,
/// without it, and with a follow-up — never enforced in a silently weaker form.
struct ConditionalAccessCreate: StageKind {
    static let spec = StageKindSpec(
        name: "conditionalAccess.create",
        summary:
            "Conditional Access policies with every user, group, role, app (appId) and location reference remapped and keywords kept, in report-only (or disabled) state; OData annotations stripped at every depth, authentication strengths referenced by id only (built-in ids kept, custom ones from `authenticationStrengths.create`), workload-identity (`clientApplications`) references remapped; a policy with a reference that cannot be restored (terms of use, authentication contexts, a missing object) is created **disabled** without it, with a follow-up — never enforced in a weaker form",
        options: [OptionSpec("initialState", .string, "`enabledForReportingButNotEnforced` (default) or `disabled`"), adoptOption])

    static let readOnly: Set<String> = ["id", "createdDateTime", "modifiedDateTime", "templateId"]
    let initialState: String
    let adoptExisting: Bool
    /// Source id → target id of the custom authentication strengths an earlier stage restored, read once per stage.
    let customStrengths = SharedReads<[String: String]>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        initialState = stage.options.string("initialState") ?? "enabledForReportingButNotEnforced"
        adoptExisting = stage.options.bool("adoptExisting") ?? true
        guard ["enabledForReportingButNotEnforced", "disabled"].contains(initialState) else {
            throw StageConfigurationError(
                stageID: stage.id, problem: "initialState must be enabledForReportingButNotEnforced or disabled",
                hint: "policies are enabled by conditionalAccess.enable, after a gate")
        }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.conditionalAccessPolicies.map {
                PlannedOperation(
                    key: "policy:\($0.id)", objectType: .conditionalAccessPolicy, sourceID: $0.id, naturalKey: $0.displayName,
                    displayName: $0.displayName, detail: ["sourceState": .string($0.state)])
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        guard let policy = context.snapshot.conditionalAccessPolicies.first(where: { $0.id == operation.sourceID }) else {
            throw StageOperationError(code: "SnapshotMismatch", message: "policy \(operation.sourceID) is not in the snapshot")
        }
        let strengths = try await customStrengths.value("strengths") {
            try await AuthenticationStrengthsCreate.restored(in: context.checkpoint)
        }
        let remapped = PolicyReferences.remap(policy.properties, snapshot: context.snapshot, idMap: context.idMap, strengths: strengths)
        var body = PolicyReferences.stripAnnotations(remapped.policy).filter { !Self.readOnly.contains($0.key) }
        var followUps: [FollowUp] = []
        if remapped.unresolved.isEmpty {
            body["state"] = .string(initialState)
        } else {
            body["state"] = "disabled"
            followUps.append(
                FollowUp(
                    category: "ca-unresolved-reference",
                    message:
                        "policy \"\(policy.displayName)\" was created disabled without \(remapped.unresolved.joined(separator: ", ")), which could not be restored",
                    action: "restore or replace those references, then review and enable the policy by hand"))
        }
        if policy.state != "disabled", body["state"]?.stringValue != policy.state {
            followUps.append(
                FollowUp(
                    category: "ca-report-only",
                    message: "policy \"\(policy.displayName)\" is \(body["state"]!.stringValue!) (source: \(policy.state))",
                    action: "run conditionalAccess.enable after reviewing the sign-in logs in report-only mode"))
        }
        let created = try await context.graph.send(GraphRequest("POST", "/identity/conditionalAccess/policies", body: .object(body)))
        guard let id = created.object["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "no id returned")
        }
        return OperationOutcome(.created, newID: id, followUps: followUps)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await DisplayNameLookup.adopt(operation, in: context, collection: "/identity/conditionalAccess/policies")
    }
}

/// Remaps the references of a Conditional Access policy from source ids to target ids.
enum PolicyReferences {
    static let userKeywords: Set<String> = ["All", "None", "GuestsOrExternalUsers"]
    static let appKeywords: Set<String> = ["All", "None", "Office365", "MicrosoftAdminPortals"]
    static let locationKeywords: Set<String> = ["All", "AllTrusted"]

    /// The built-in authentication strengths: the same ids in every tenant (policyType `builtIn`,
    /// resources/authenticationstrengthpolicy.md); multifactor, passwordless and phishing-resistant MFA.
    static let builtInStrengthIDs: Set<String> = [
        "00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-000000000003", "00000000-0000-0000-0000-000000000004",
    ]

    /// The value without OData annotations (`@odata.context`, `x@odata.type`, …) at any depth: a policy is posted as
    /// plain properties, and Graph refuses a captured nested object's annotations.
    static func stripAnnotations(_ object: JSONObject) -> JSONObject {
        func clean(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let object): return .object(stripAnnotations(object))
            case .array(let array): return .array(array.map(clean))
            default: return value
            }
        }
        var result: JSONObject = [:]
        for (key, value) in object where !key.contains("@odata.") && !key.hasPrefix("@") { result[key] = clean(value) }
        return result
    }

    /// The policy with references remapped, and the references that could not be (as `path: id`).
    ///
    /// An authentication strength is sent as `{"id": …}` only (a captured policy carries the whole strength object):
    /// built-in ones keep their ids, custom ones take the id an ``AuthenticationStrengthsCreate`` stage gave them
    /// (`strengths`). Terms of use and authentication contexts are not captured, so a policy that names them cannot be
    /// completed here: they are left out and reported as unresolved (the policy then lands disabled with a follow-up).
    static func remap(_ policy: JSONObject, snapshot: Snapshot, idMap: IDMap, strengths: [String: String] = [:]) -> (
        policy: JSONObject, unresolved: [String]
    ) {
        var unresolved: [String] = []
        var conditions = policy["conditions"]?.objectValue ?? [:]
        func mapList(_ section: String, _ key: String, keywords: Set<String>, _ map: (String) -> String?) {
            guard var object = conditions[section]?.objectValue, let values = object[key]?.stringArray else { return }
            var mapped: [JSONValue] = []
            for value in values {
                if keywords.contains(value) {
                    mapped.append(.string(value))
                } else if let new = map(value) {
                    mapped.append(.string(new))
                } else {
                    unresolved.append("\(section).\(key) \(value)")
                }
            }
            object[key] = .array(mapped)
            conditions[section] = .object(object)
        }
        let builtInRoles = Set(snapshot.roleDefinitions.filter(\.isBuiltIn).flatMap { [$0.id, $0.templateId ?? $0.id] })
        let firstPartyAppIds = Set(
            snapshot.servicePrincipals.filter {
                $0.appOwnerOrganizationId != nil && $0.appOwnerOrganizationId != snapshot.manifest.sourceTenantId
            }.map(\.appId))
        for key in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups"] {
            mapList("users", key, keywords: userKeywords) { idMap.newID(for: $0) }
        }
        for key in ["includeRoles", "excludeRoles"] {
            // Built-in roles are referenced by template id, which is the same in every tenant.
            mapList("users", key, keywords: []) { builtInRoles.contains($0) ? $0 : idMap.newID(for: $0) }
        }
        for key in ["includeApplications", "excludeApplications"] {
            mapList("applications", key, keywords: appKeywords) {
                idMap.newAppID(forOldAppID: $0) ?? (firstPartyAppIds.contains($0) ? $0 : nil)
            }
        }
        for key in ["includeLocations", "excludeLocations"] {
            mapList("locations", key, keywords: locationKeywords) { idMap.newID(for: $0) }
        }
        for key in ["includeServicePrincipals", "excludeServicePrincipals"] {
            guard var clients = conditions["clientApplications"]?.objectValue, let values = clients[key]?.stringArray else { continue }
            var mapped: [JSONValue] = []
            for value in values {
                if ["All", "None", "ServicePrincipalsInMyTenant"].contains(value) {
                    mapped.append(.string(value))
                } else if let new = idMap.newID(for: value) {
                    mapped.append(.string(new))
                } else {
                    unresolved.append("clientApplications.\(key) \(value)")
                }
            }
            clients[key] = .array(mapped)
            conditions["clientApplications"] = .object(clients)
        }
        if var applications = conditions["applications"]?.objectValue,
            let contexts = applications["includeAuthenticationContextClassReferences"]?.stringArray, !contexts.isEmpty
        {
            unresolved += contexts.map { "applications.includeAuthenticationContextClassReferences \($0)" }
            applications["includeAuthenticationContextClassReferences"] = []
            conditions["applications"] = .object(applications)
        }
        var result = policy
        result["conditions"] = .object(conditions)
        if var grant = policy["grantControls"]?.objectValue {
            if let terms = grant["termsOfUse"]?.stringArray, !terms.isEmpty {
                unresolved += terms.map { "grantControls.termsOfUse \($0)" }
                grant["termsOfUse"] = []
            }
            if let strength = grant["authenticationStrength"], !strength.isNull {
                let id = strength["id"]?.stringValue ?? ""
                let builtIn = builtInStrengthIDs.contains(id) || strength["policyType"]?.stringValue == "builtIn"
                if builtIn {
                    grant["authenticationStrength"] = ["id": .string(id)]
                } else if let new = strengths[id] {
                    grant["authenticationStrength"] = ["id": .string(new)]
                } else {
                    unresolved.append("grantControls.authenticationStrength \(strength["displayName"]?.stringValue ?? id)")
                    grant["authenticationStrength"] = nil
                    // Without its strength the grant must still require something: MFA is the closest built-in control.
                    let controls = grant["builtInControls"]?.stringArray ?? []
                    if controls.isEmpty { grant["builtInControls"] = ["mfa"] }
                }
            }
            result["grantControls"] = .object(grant)
        }
        return (result, unresolved)
    }
}

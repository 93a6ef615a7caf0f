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
        name: "conditionalAccess.create", summary: "Recreate Conditional Access policies, references remapped, in report-only or disabled state.",
        options: [OptionSpec("initialState", .string, "`enabledForReportingButNotEnforced` (default) or `disabled`"), adoptOption])

    static let readOnly: Set<String> = ["id", "createdDateTime", "modifiedDateTime", "templateId"]
    let initialState: String
    let adoptExisting: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        initialState = stage.options.string("initialState") ?? "enabledForReportingButNotEnforced"
        adoptExisting = stage.options.bool("adoptExisting") ?? true
        guard ["enabledForReportingButNotEnforced", "disabled"].contains(initialState) else {
            throw StageConfigurationError(stageID: stage.id, problem: "initialState must be enabledForReportingButNotEnforced or disabled",
                                          hint: "policies are enabled by conditionalAccess.enable, after a gate")
        }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(operations: snapshot.conditionalAccessPolicies.map {
            PlannedOperation(key: "policy:\($0.id)", objectType: .conditionalAccessPolicy, sourceID: $0.id, naturalKey: $0.displayName,
                             displayName: $0.displayName, detail: ["sourceState": .string($0.state)])
        })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        guard let policy = context.snapshot.conditionalAccessPolicies.first(where: { $0.id == operation.sourceID }) else {
            throw StageOperationError(code: "SnapshotMismatch", message: "policy \(operation.sourceID) is not in the snapshot")
        }
        let remapped = PolicyReferences.remap(policy.properties, snapshot: context.snapshot, idMap: context.idMap)
        var body = remapped.policy.filter { !Self.readOnly.contains($0.key) }
        var followUps: [FollowUp] = []
        if remapped.unresolved.isEmpty {
            body["state"] = .string(initialState)
        } else {
            body["state"] = "disabled"
            followUps.append(FollowUp(
                category: "ca-unresolved-reference",
                message: "policy \"\(policy.displayName)\" was created disabled without \(remapped.unresolved.joined(separator: ", ")), which could not be restored",
                action: "restore or replace those references, then review and enable the policy by hand"))
        }
        if policy.state != "disabled", body["state"]?.stringValue != policy.state {
            followUps.append(FollowUp(category: "ca-report-only", message: "policy \"\(policy.displayName)\" is \(body["state"]!.stringValue!) (source: \(policy.state))",
                                      action: "run conditionalAccess.enable after reviewing the sign-in logs in report-only mode"))
        }
        let created = try await context.graph.send(GraphRequest("POST", "/identity/conditionalAccess/policies", body: .object(body)))
        guard let id = created.object["id"]?.stringValue else { throw StageOperationError(code: "MalformedResponse", message: "no id returned") }
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

    /// The policy with references remapped, and the references that could not be (as `path: id`).
    static func remap(_ policy: JSONObject, snapshot: Snapshot, idMap: IDMap) -> (policy: JSONObject, unresolved: [String]) {
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
        let firstPartyAppIds = Set(snapshot.servicePrincipals.filter { $0.appOwnerOrganizationId != nil && $0.appOwnerOrganizationId != snapshot.manifest.sourceTenantId }.map(\.appId))
        for key in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups"] {
            mapList("users", key, keywords: userKeywords) { idMap.newID(for: $0) }
        }
        for key in ["includeRoles", "excludeRoles"] {
            // Built-in roles are referenced by template id, which is the same in every tenant.
            mapList("users", key, keywords: []) { builtInRoles.contains($0) ? $0 : idMap.newID(for: $0) }
        }
        for key in ["includeApplications", "excludeApplications"] {
            mapList("applications", key, keywords: appKeywords) { idMap.newAppID(forOldAppID: $0) ?? (firstPartyAppIds.contains($0) ? $0 : nil) }
        }
        for key in ["includeLocations", "excludeLocations"] {
            mapList("locations", key, keywords: locationKeywords) { idMap.newID(for: $0) }
        }
        var result = policy
        result["conditions"] = .object(conditions)
        return (result, unresolved)
    }
}

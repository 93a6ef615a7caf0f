import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `conditionalAccess.enable`: after an explicit gate, gives each policy back its source state —
/// unless the **lockout guard** refuses: a policy that would block the operator, or every break-glass
/// account named in the runbook, or that was created without some of its references, stays as it is
/// with a follow-up.
struct ConditionalAccessEnable: StageKind {
    static let spec = StageKindSpec(
        name: "conditionalAccess.enable",
        summary:
            "behind a required gate, gives each policy its source state — except where the **lockout guard** refuses: a policy that blocks modern sign-in everywhere for the operator or for every break-glass account, or that lacks references",
        options: [
            OptionSpec("operator", .string, "the UPN (in the snapshot) of the admin running the recovery; never locked out"),
            OptionSpec("breakGlass", .stringList, "UPNs of the break-glass accounts; a policy may not block all of them"),
        ])

    let operatorUPN: String?
    let breakGlass: [String]

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        guard stage.gate != nil else {
            throw StageConfigurationError(
                stageID: stage.id, problem: "conditionalAccess.enable must have a `gate:`",
                hint: "enabling policies is a decision for a person, after reviewing them in report-only mode")
        }
        operatorUPN = stage.options.string("operator")
        breakGlass = stage.options.stringList("breakGlass") ?? []
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) throws(StageConfigurationError) -> StagePlan {
        var plan = StagePlan()
        let guardrail = LockoutGuard(snapshot: snapshot)
        let operatorUser = operatorUPN.flatMap(guardrail.user)
        let breakGlassUsers = breakGlass.compactMap(guardrail.user)
        if breakGlass.isEmpty { plan.warnings.append("no break-glass accounts are named: the lockout guard only protects the operator") }
        for name in breakGlass where guardrail.user(name) == nil {
            plan.warnings.append("break-glass account \(name) is not in the snapshot")
        }
        for policy in snapshot.conditionalAccessPolicies where policy.state != "disabled" {
            var skip: FollowUp?
            if let reason = guardrail.refusal(policy, operatorUser: operatorUser, breakGlass: breakGlassUsers) {
                skip = FollowUp(
                    category: "lockout-guard", message: "policy \"\(policy.displayName)\" was not enabled: \(reason)",
                    action: "exclude the operator and at least one break-glass account, then enable it by hand")
            }
            plan.operations.append(
                PlannedOperation(
                    key: "enable:\(policy.id)", objectType: nil, sourceID: policy.id, naturalKey: nil,
                    displayName: policy.displayName, detail: ["state": .string(policy.state)], skip: skip))
        }
        return plan
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let id = context.idMap.newID(for: operation.sourceID), let state = operation.detail["state"]?.stringValue else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference", message: "policy \(operation.displayName) was not restored",
                        action: "restore it with conditionalAccess.create first")
                ])
        }
        let current = try await context.graph.get("/identity/conditionalAccess/policies/\(id)")
        // The same remapping conditionalAccess.create did: a reference still missing keeps the policy as it is.
        let source = context.snapshot.conditionalAccessPolicies.first { $0.id == operation.sourceID }
        if let source, !PolicyReferences.remap(source.properties, snapshot: context.snapshot, idMap: context.idMap).unresolved.isEmpty {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "lockout-guard",
                        message:
                            "policy \"\(operation.displayName)\" still lacks references that could not be restored; it stays \(current["state"]?.stringValue ?? "disabled")",
                        action: "fix its conditions, then enable it by hand")
                ])
        }
        if current["state"]?.stringValue != state {
            _ = try await context.graph.send(
                GraphRequest("PATCH", "/identity/conditionalAccess/policies/\(id)", body: ["state": .string(state)]))
        }
        // The policy is in its source state again: the "left in report-only" follow-up no longer applies.
        try await context.checkpoint.resolveFollowUps(category: "ca-report-only", sourceID: operation.sourceID, stageID: context.stage.id)
        return OperationOutcome(current["state"]?.stringValue == state ? .unchanged : .applied)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let id = context.idMap.newID(for: operation.sourceID) else { return nil }
        let current = try await context.graph.get("/identity/conditionalAccess/policies/\(id)")
        return current["state"] == operation.detail["state"] ? OperationOutcome(.applied) : nil
    }
}

/// Decides whether a policy would lock people out, on the snapshot's own ids (so the answer does not
/// depend on what the target holds yet): does it block the operator, or every break-glass account?
struct LockoutGuard: Sendable {
    let snapshot: Snapshot
    /// Group id → its direct members' ids (a duplicated group id holds the members of each copy).
    private let members: [String: [String]]
    /// Role definition id → its template id (the first definition of that id, as Graph lists them).
    private let templates: [String: String]

    init(snapshot: Snapshot) {
        self.snapshot = snapshot
        var members: [String: [String]] = [:]
        for group in snapshot.groups where !group.members.isEmpty {
            members[group.id, default: []].append(contentsOf: group.members.map(\.id))
        }
        self.members = members
        var templates: [String: String] = [:]
        var seen = Set<String>()
        for definition in snapshot.roleDefinitions where seen.insert(definition.id).inserted {
            templates[definition.id] = definition.templateId
        }
        self.templates = templates
    }

    func user(_ upn: String) -> User? {
        snapshot.users.first { $0.userPrincipalName.caseInsensitiveCompare(upn) == .orderedSame }
    }

    /// The users a policy's user conditions (`conditions.users`, conditionalaccessusers in the CSDL) select, worked out
    /// once per policy: a user is selected when the policy includes everyone, the user, a group the user is in
    /// (directly or through nested groups) or a directory role the user holds (directly or through a group), and
    /// excludes none of these. Asking it about 100,000 users costs a set look-up each, not a walk of their groups.
    struct SelectedUsers: Sendable {
        /// `includeUsers` holds `All`.
        let everyone: Bool
        /// `includeUsers` holds `GuestsOrExternalUsers`.
        let guests: Bool
        /// Ids the inclusions name or reach (users, and the groups in between).
        let included: Set<String>
        /// Ids the exclusions name or reach.
        let excluded: Set<String>

        func contains(_ user: User) -> Bool {
            (everyone || included.contains(user.id) || (guests && user.isGuest)) && !excluded.contains(user.id)
        }
    }

    func selection(_ policy: ConditionalAccessPolicy) -> SelectedUsers {
        let conditions = policy.properties["conditions"]?["users"]
        func list(_ key: String) -> [String] { conditions?[key]?.stringArray ?? [] }
        let includeUsers = list("includeUsers")
        func reached(users: [String], groups: [String], roles: [String]) -> Set<String> {
            var ids = Set(users)
            ids.formUnion(transitiveMembers(of: groups))
            ids.formUnion(holders(of: roles))
            return ids
        }
        return SelectedUsers(
            everyone: includeUsers.contains("All"), guests: includeUsers.contains("GuestsOrExternalUsers"),
            included: reached(users: includeUsers, groups: list("includeGroups"), roles: list("includeRoles")),
            excluded: reached(users: list("excludeUsers"), groups: list("excludeGroups"), roles: list("excludeRoles")))
    }

    /// Every id a member of one of the groups, directly or through nested groups.
    private func transitiveMembers(of groups: some Sequence<String>) -> Set<String> {
        var result = Set<String>()
        var frontier = Array(groups)
        while let id = frontier.popLast() {
            for member in members[id] ?? [] where result.insert(member).inserted { frontier.append(member) }
        }
        return result
    }

    /// The principals assigned one of the roles (by definition id or template id), and every member of those that are groups.
    private func holders(of roles: [String]) -> Set<String> {
        guard !roles.isEmpty else { return [] }
        let wanted = Set(roles)
        let principals = snapshot.roleAssignments.filter { assignment in
            wanted.contains(assignment.roleDefinitionId) || templates[assignment.roleDefinitionId].map(wanted.contains) == true
        }
        .map(\.principalId)
        return Set(principals).union(transitiveMembers(of: principals))
    }

    /// Whether the policy's user conditions select this user (asking about many users, take ``selection(_:)`` once).
    func applies(_ policy: ConditionalAccessPolicy, to user: User) -> Bool { selection(policy).contains(user) }

    /// A policy that blocks modern sign-in everywhere: `block`, for browsers and modern clients (or any client
    /// app), from any location. Blocking only legacy protocols or only some countries does not lock anyone out.
    func blocks(_ policy: ConditionalAccessPolicy) -> Bool {
        guard policy.properties["grantControls"]?["builtInControls"]?.stringArray?.contains("block") == true else { return false }
        let conditions = policy.properties["conditions"]
        let clients = conditions?["clientAppTypes"]?.stringArray ?? []
        let modern = clients.isEmpty || clients.contains { ["all", "browser", "mobileAppsAndDesktopClients"].contains($0) }
        let locations = conditions?["locations"]?["includeLocations"]?.stringArray
        let everywhere = locations == nil || locations!.isEmpty || locations!.contains("All")
        return modern && everywhere
    }

    /// Why enabling the policy is refused, or `nil` when it is safe.
    func refusal(_ policy: ConditionalAccessPolicy, operatorUser: User?, breakGlass: [User]) -> String? {
        guard policy.state == "enabled", blocks(policy) else { return nil }
        let selected = selection(policy)
        if let operatorUser, selected.contains(operatorUser) {
            return "it blocks the operator \(operatorUser.userPrincipalName)"
        }
        if !breakGlass.isEmpty, breakGlass.allSatisfy(selected.contains) {
            return "it blocks every break-glass account (\(breakGlass.map(\.userPrincipalName).joined(separator: ", ")))"
        }
        return nil
    }
}

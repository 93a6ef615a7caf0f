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
        let guardrail = LockoutGuard(snapshot: snapshot, index: index)
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
    let index: SnapshotIndex
    /// Member id → the groups that list it directly (built once: tenants have groups of 100,000 members).
    private let memberOf: [String: [String]]

    init(snapshot: Snapshot, index: SnapshotIndex) {
        self.snapshot = snapshot
        self.index = index
        var memberOf: [String: [String]] = [:]
        for group in snapshot.groups {
            for member in group.members { memberOf[member.id, default: []].append(group.id) }
        }
        self.memberOf = memberOf
    }

    func user(_ upn: String) -> User? {
        snapshot.users.first { $0.userPrincipalName.caseInsensitiveCompare(upn) == .orderedSame }
    }

    /// Groups a user belongs to, directly or through nesting.
    func groups(of userID: String) -> Set<String> {
        var result = Set<String>()
        var frontier = [userID]
        while let id = frontier.popLast() {
            for group in memberOf[id] ?? [] where result.insert(group).inserted { frontier.append(group) }
        }
        return result
    }

    func roles(of userID: String, groups: Set<String>) -> Set<String> {
        var roles = Set<String>()
        for assignment in snapshot.roleAssignments where assignment.principalId == userID || groups.contains(assignment.principalId) {
            let definition = snapshot.roleDefinitions.first { $0.id == assignment.roleDefinitionId }
            roles.insert(assignment.roleDefinitionId)
            if let template = definition?.templateId { roles.insert(template) }
        }
        return roles
    }

    /// Whether the policy's user conditions select this user.
    func applies(_ policy: ConditionalAccessPolicy, to user: User) -> Bool {
        let conditions = policy.properties["conditions"]?["users"]
        let memberOf = groups(of: user.id)
        let roles = roles(of: user.id, groups: memberOf)
        func list(_ key: String) -> [String] { conditions?[key]?.stringArray ?? [] }
        let guestKeyword = user.isGuest && list("includeUsers").contains("GuestsOrExternalUsers")
        let included =
            list("includeUsers").contains("All") || list("includeUsers").contains(user.id) || guestKeyword
            || !memberOf.isDisjoint(with: list("includeGroups")) || !roles.isDisjoint(with: list("includeRoles"))
        let excluded =
            list("excludeUsers").contains(user.id) || !memberOf.isDisjoint(with: list("excludeGroups"))
            || !roles.isDisjoint(with: list("excludeRoles"))
        return included && !excluded
    }

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
        if let operatorUser, applies(policy, to: operatorUser) {
            return "it blocks the operator \(operatorUser.userPrincipalName)"
        }
        if !breakGlass.isEmpty, breakGlass.allSatisfy({ applies(policy, to: $0) }) {
            return "it blocks every break-glass account (\(breakGlass.map(\.userPrincipalName).joined(separator: ", ")))"
        }
        return nil
    }
}

import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// The lockout guard works a policy's user conditions out once (``LockoutGuardProbe/selection(_:)``) instead of walking
/// each user's groups and roles per policy; on a generated tenant with nested groups, group-held roles, guests and
/// exclusions its answer must be, user by user and policy by policy, the per-user walk's (``perUserWalk``, the previous code).
@Suite struct LockoutGuardSelectionTests {
    /// The previous `LockoutGuard.applies(_:to:)`: the user's groups upwards through nesting, then the roles held by the
    /// user or by one of those groups, then the policy's lists.
    struct PerUserWalk {
        let snapshot: Snapshot
        let memberOf: [String: [String]]

        init(_ snapshot: Snapshot) {
            self.snapshot = snapshot
            var memberOf: [String: [String]] = [:]
            for group in snapshot.groups {
                for member in group.members { memberOf[member.id, default: []].append(group.id) }
            }
            self.memberOf = memberOf
        }

        func applies(_ policy: ConditionalAccessPolicy, to user: User) -> Bool {
            var groups = Set<String>()
            var frontier = [user.id]
            while let id = frontier.popLast() {
                for group in memberOf[id] ?? [] where groups.insert(group).inserted { frontier.append(group) }
            }
            var roles = Set<String>()
            for assignment in snapshot.roleAssignments where assignment.principalId == user.id || groups.contains(assignment.principalId) {
                roles.insert(assignment.roleDefinitionId)
                if let template = snapshot.roleDefinitions.first(where: { $0.id == assignment.roleDefinitionId })?.templateId {
                    roles.insert(template)
                }
            }
            let conditions = policy.properties["conditions"]?["users"]
            func list(_ key: String) -> [String] { conditions?[key]?.stringArray ?? [] }
            let included =
                list("includeUsers").contains("All") || list("includeUsers").contains(user.id)
                || (user.isGuest && list("includeUsers").contains("GuestsOrExternalUsers"))
                || !groups.isDisjoint(with: list("includeGroups")) || !roles.isDisjoint(with: list("includeRoles"))
            let excluded =
                list("excludeUsers").contains(user.id) || !groups.isDisjoint(with: list("excludeGroups"))
                || !roles.isDisjoint(with: list("excludeRoles"))
            return included && !excluded
        }
    }

    static func policy(_ number: Int, _ users: JSONObject) throws -> ConditionalAccessPolicy {
        try ConditionalAccessPolicy(properties: [
            "id": .string("policy-\(number)"), "displayName": .string("Policy \(number)"), "state": "enabled",
            "conditions": ["users": .object(users), "applications": ["includeApplications": ["All"]]],
            "grantControls": ["operator": "OR", "builtInControls": ["mfa"]],
        ])
    }

    @Test func eachPolicySelectsTheUsersThePerUserWalkSelects() async throws {
        try await withTemporaryDirectory("lockout-selection") { directory in
            let generated = directory.url.appendingPathComponent("snapshot")
            let summary = try TenantGenerator(.init(users: 600, seed: 7)).write(to: generated)
            #expect(summary.nestedGroups > 0)
            let snapshot = try Snapshot.load(from: generated)
            let walk = PerUserWalk(snapshot)
            let probe = LockoutGuardProbe(snapshot)

            // The generated tenant's own policies, and conditions that name its nested groups, its group-held and
            // user-held roles (by definition id and by template id), its guests and exclusions of each kind.
            var policies = snapshot.conditionalAccessPolicies
            let nesting = snapshot.groups.filter { group in group.members.contains { $0.typeName.lowercased().contains("group") } }
            let groups = (nesting.prefix(6) + snapshot.groups.prefix(6)).map(\.id)
            let heldByGroups = snapshot.roleAssignments.filter { assignment in snapshot.groups.contains { $0.id == assignment.principalId }
            }
            #expect(!nesting.isEmpty && !heldByGroups.isEmpty)
            let roleIDs = snapshot.roleAssignments.map(\.roleDefinitionId)
            let templates = snapshot.roleDefinitions.compactMap(\.templateId).filter { !roleIDs.contains($0) }
            let someUsers = snapshot.users.prefix(40).map(\.id)
            let string = { (ids: [String]) in JSONValue.array(ids.map(JSONValue.string)) }
            policies.append(try Self.policy(1, ["includeGroups": string(Array(groups.prefix(4)))]))
            policies.append(try Self.policy(2, ["includeUsers": ["All"], "excludeGroups": string(Array(groups.suffix(4)))]))
            policies.append(try Self.policy(3, ["includeRoles": string(heldByGroups.map(\.roleDefinitionId))]))
            policies.append(try Self.policy(4, ["includeRoles": string(templates), "excludeUsers": string(Array(someUsers.prefix(3)))]))
            policies.append(
                try Self.policy(
                    5, ["includeUsers": ["GuestsOrExternalUsers"], "includeGroups": string(groups), "excludeRoles": string(roleIDs)]))
            policies.append(try Self.policy(6, ["includeUsers": string(someUsers), "excludeGroups": string(Array(groups.prefix(2)))]))
            policies.append(try Self.policy(7, [:]))

            var selectedSomewhere = 0
            for policy in policies {
                let selection = probe.selection(policy)
                var selected = 0
                for user in snapshot.users {
                    let expected = walk.applies(policy, to: user)
                    #expect(selection.contains(user) == expected, "\(policy.displayName), \(user.userPrincipalName)")
                    #expect(probe.applies(policy, to: user) == expected)
                    if expected { selected += 1 }
                }
                if selected > 0, selected < snapshot.users.count { selectedSomewhere += 1 }
            }
            // Most policies select some users and not others: the comparison is not between two constants.
            #expect(selectedSomewhere >= 5)
        }
    }
}

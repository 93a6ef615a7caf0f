import LifeboatJSON
import LifeboatSnapshot

/// Asks the lockout guard about a policy without running a stage (for `lifeboat plan`, readiness checks and tests).
///
/// It is the same ``LockoutGuard`` that `conditionalAccess.enable` consults, built once per snapshot.
package struct LockoutGuardProbe: Sendable {
    let guardrail: LockoutGuard

    package init(_ snapshot: Snapshot) {
        guardrail = LockoutGuard(snapshot: snapshot)
    }

    /// Why enabling the policy would be refused, or `nil` when it is safe.
    package func refusal(_ policy: JSONObject, operatorUPN: String?, breakGlass: [String]) throws -> String? {
        refusal(try ConditionalAccessPolicy(properties: policy), operatorUPN: operatorUPN, breakGlass: breakGlass)
    }

    /// Why enabling the policy would be refused, or `nil` when it is safe.
    package func refusal(_ policy: ConditionalAccessPolicy, operatorUPN: String?, breakGlass: [String]) -> String? {
        guardrail.refusal(policy, operatorUser: operatorUPN.flatMap(guardrail.user), breakGlass: breakGlass.compactMap(guardrail.user))
    }

    /// The snapshot's user with this UPN (case-insensitive), if any.
    package func user(_ upn: String) -> User? { guardrail.user(upn) }

    /// Whether the policy's user conditions select the user (directly, through nested groups or directory roles),
    /// whatever the policy's state and controls. About many users, ask ``selection(_:)`` once instead.
    package func applies(_ policy: ConditionalAccessPolicy, to user: User) -> Bool { guardrail.applies(policy, to: user) }

    /// The policy's user conditions worked out once: ``SelectedUsers/contains(_:)`` answers ``applies(_:to:)`` for any user.
    package func selection(_ policy: ConditionalAccessPolicy) -> SelectedUsers { SelectedUsers(guardrail.selection(policy)) }

    /// The users a policy's user conditions select (``LockoutGuardProbe/selection(_:)``).
    package struct SelectedUsers: Sendable {
        let selected: LockoutGuard.SelectedUsers
        init(_ selected: LockoutGuard.SelectedUsers) { self.selected = selected }

        /// Whether the policy applies to the user, as ``LockoutGuardProbe/applies(_:to:)`` answers.
        package func contains(_ user: User) -> Bool { selected.contains(user) }
    }

    /// Whether the policy blocks modern sign-in from everywhere (the kind of policy that can lock people out).
    package func blocks(_ policy: ConditionalAccessPolicy) -> Bool { guardrail.blocks(policy) }
}

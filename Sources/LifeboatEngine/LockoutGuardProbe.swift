import LifeboatJSON
import LifeboatSnapshot

/// Asks the lockout guard about a policy without running a stage (for `lifeboat plan`, readiness checks and tests).
public struct LockoutGuardProbe: Sendable {
    let snapshot: Snapshot

    public init(_ snapshot: Snapshot) {
        self.snapshot = snapshot
    }

    /// Why enabling the policy would be refused, or `nil` when it is safe.
    public func refusal(_ policy: JSONObject, operatorUPN: String?, breakGlass: [String]) throws -> String? {
        let guardrail = LockoutGuard(snapshot: snapshot, index: SnapshotIndex(snapshot))
        let parsed = try ConditionalAccessPolicy(properties: policy)
        return guardrail.refusal(parsed, operatorUser: operatorUPN.flatMap(guardrail.user), breakGlass: breakGlass.compactMap(guardrail.user))
    }
}

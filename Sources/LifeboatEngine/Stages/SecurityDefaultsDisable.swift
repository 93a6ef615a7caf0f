import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `securityDefaults.disable`: turns Security Defaults off so that the restored Conditional Access policies can be
/// created (Graph refuses Conditional Access while they are on). Runs behind a gate: from this moment until
/// `conditionalAccess.enable` the tenant enforces no MFA, so the runbook puts it right before the policies (created in
/// report-only) and says in the gate what lapses and for how long. The moment is logged (`securityDefaults.disabled`).
///
/// Conditional Access needs an Entra ID P1 or P2 licence (a subscribed SKU whose service plans include `AAD_PREMIUM` or
/// `AAD_PREMIUM_P2`, subscribedsku-list.md). Without one, turning Security Defaults off would leave the tenant with no
/// MFA at all and nothing to replace it: the stage stops instead, with Security Defaults left on.
/// (identitysecuritydefaultsenforcementpolicy-update.md, identitysecuritydefaultsenforcementpolicy-get.md)
struct SecurityDefaultsDisable: StageKind {
    static let spec = StageKindSpec(
        name: "securityDefaults.disable",
        summary:
            "turns Security Defaults off so Conditional Access can be created; put it behind a gate right before the policies (MFA is not enforced until `conditionalAccess.enable`), logged as `securityDefaults.disabled`. Without an Entra ID P1/P2 subscription it stops and leaves Security Defaults on",
        options: [])

    static let path = "/policies/identitySecurityDefaultsEnforcementPolicy"
    /// Service plans that license Conditional Access.
    static let conditionalAccessPlans: Set<String> = ["AAD_PREMIUM", "AAD_PREMIUM_P2"]

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(operations: [
            PlannedOperation(
                key: "securityDefaults", objectType: nil, sourceID: "securityDefaults", naturalKey: nil,
                displayName: "Security Defaults")
        ])
    }

    /// Whether a subscribed SKU of the target licenses Conditional Access (`GET /subscribedSkus`).
    static func conditionalAccessLicensed(_ graph: GraphClient) async throws -> Bool {
        let skus = try await graph.list("/subscribedSkus")
        return skus.contains { sku in
            (sku["servicePlans"]?.arrayValue ?? []).contains { conditionalAccessPlans.contains($0["servicePlanName"]?.stringValue ?? "") }
        }
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if let done = try await reconcile(operation, in: context) { return done }
        guard try await Self.conditionalAccessLicensed(context.graph) else {
            throw StageOperationError(
                code: "ConditionalAccessNotLicensed",
                message:
                    "the target has no Entra ID P1 or P2 subscription, so Conditional Access cannot replace Security Defaults; they stay on. "
                    + "Buy or start a trial of Entra ID P1 (or P2) in the target, then `lifeboat resume`; or remove the Conditional Access stages from the runbook"
            )
        }
        _ = try await context.graph.send(GraphRequest("PATCH", Self.path, body: ["isEnabled": false]))
        try await context.checkpoint.append(.securityDefaultsDisabled(stageID: context.stage.id), simulated: nil)
        return OperationOutcome(
            .applied,
            followUps: [
                FollowUp(
                    category: "security-defaults-off",
                    message:
                        "Security Defaults were turned off; MFA is enforced again only once the restored Conditional Access policies are enabled",
                    action: "keep the window short: approve the conditionalAccess.enable gate as soon as the report-only review is done")
            ],
            note: "Security Defaults off")
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let policy = try await context.graph.get(Self.path)
        return policy["isEnabled"]?.boolValue == false ? OperationOutcome(.unchanged, note: "Security Defaults are off") : nil
    }
}

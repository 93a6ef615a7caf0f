import Foundation
import LifeboatEngine
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// The target preflight: before the first write of a rebuild, a dry run or a tabletop, reads what the target tenant
/// would refuse later — the token's application permissions against what every planned stage needs (``StagePermissions``),
/// Security Defaults, the Entra ID P1/P2 subscription Conditional Access needs, the Temporary Access Pass method, and
/// the target's domains — and turns each gap into a readiness finding naming the stages it breaks and the fix.
///
/// Only reads: `GET /policies/identitySecurityDefaultsEnforcementPolicy`, `GET /subscribedSkus`,
/// `GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`, `GET /domains`.
/// A critical finding is a gap that would stop the run midway: the caller stops before the first write.
package enum TargetPreflight {
    /// What the preflight looks at.
    package struct Input: Sendable {
        /// The runbook, parameters substituted (its stages are the plan).
        package var runbook: Runbook
        package var snapshot: Snapshot
        /// The application permissions the app holds (the access token's `roles` claim); `nil` when the transport has
        /// no token (an in-process fake that grants everything), and the permission check is then skipped.
        package var grantedPermissions: Set<String>?

        package init(runbook: Runbook, snapshot: Snapshot, grantedPermissions: Set<String>?) {
            self.runbook = runbook
            self.snapshot = snapshot
            self.grantedPermissions = grantedPermissions
        }
    }

    /// The preflight's findings, most severe first; ``blocking`` are those that stop the run before its first write.
    package struct Report: Sendable, Hashable {
        package var findings: [ReadinessFinding]
        package init(findings: [ReadinessFinding]) {
            self.findings = findings.sorted { ($0.severity, $0.kind.rawValue) < ($1.severity, $1.kind.rawValue) }
        }
        /// Critical findings: the run would stop midway on them.
        package var blocking: [ReadinessFinding] { findings.filter { $0.severity == .critical } }
        /// One line per finding, for the terminal.
        package var lines: [String] {
            findings.map { finding in
                "  \(finding.severity.rawValue.uppercased()) [\(finding.kind.rawValue)] \(finding.summary) — fix: \(finding.fix)"
            }
        }
    }

    /// The application permissions of an access token (its `roles` claim); `nil` when it is not a JWT with one.
    package static func roles(ofAccessToken token: String) -> Set<String>? {
        let parts = token.split(separator: ".")
        guard parts.count >= 2 else { return nil }
        var payload = String(parts[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while payload.count % 4 != 0 { payload += "=" }
        guard let data = Data(base64Encoded: payload), let claims = try? JSONCoding.decode(data) else { return nil }
        guard let roles = claims["roles"] else { return [] }
        return Set(roles.stringArray ?? [])
    }

    /// Reads the target and assesses the plan against it.
    package static func assess(_ input: Input, graph: GraphClient) async -> Report {
        var checks = PreflightChecks(input: input, graph: graph)
        checks.permissions()
        await checks.securityDefaultsAndLicence()
        await checks.temporaryAccessPass()
        await checks.domains()
        return Report(findings: checks.findings)
    }
}

/// The preflight's checks, one method per family.
struct PreflightChecks {
    let input: TargetPreflight.Input
    let graph: GraphClient
    var findings: [ReadinessFinding] = []

    init(input: TargetPreflight.Input, graph: GraphClient) {
        self.input = input
        self.graph = graph
    }

    var stages: [Runbook.Stage] { input.runbook.stages }
    func stages(_ kind: String) -> [Runbook.Stage] { stages.filter { $0.kind == kind } }
    func index(of kind: String) -> Int? { stages.firstIndex { $0.kind == kind } }

    mutating func add(
        _ kind: ReadinessFinding.Kind, _ severity: ReadinessSeverity, _ summary: String, stages: [String], fix: String,
        objects: [ReadinessObject] = []
    ) {
        findings.append(
            ReadinessFinding(
                kind: kind, severity: severity, summary: summary,
                objects: objects.isEmpty ? stages.map { ReadinessObject(type: "stage", id: $0, name: $0) } : objects,
                fix: fix, stages: stages))
    }

    /// A read the preflight needs failed: a warning (the run may still work), never a silent pass.
    mutating func unreadable(_ what: String, _ error: any Error, stages: [String]) {
        let detail =
            (error as? GraphError).map { "Graph \($0.status) \($0.code)" + ($0.requestID.map { ", request-id \($0)" } ?? "") } ?? "\(error)"
        add(
            .preflightUnreadable, .warning, "could not read \(what) (\(detail))", stages: stages,
            fix:
                "grant the permission the read needs (see the permission list in Docs/live-rebuild.md), or check it by hand in the Entra admin center"
        )
    }

    mutating func permissions() {
        guard let granted = input.grantedPermissions else { return }
        for (requirement, stageIDs) in StagePermissions.missing(for: stages.map { ($0.id, $0.kind) }, granted: granted) {
            let alternatives = requirement.anyOf.count > 1 ? " (or one of \(requirement.anyOf.dropFirst().joined(separator: ", ")))" : ""
            add(
                .permissionMissing, .critical,
                "the app lacks the application permission \(requirement.leastPrivileged)\(alternatives), which stage\(stageIDs.count == 1 ? "" : "s") "
                    + "\(stageIDs.joined(separator: ", ")) need\(stageIDs.count == 1 ? "s" : "")",
                stages: stageIDs,
                fix:
                    "add \(requirement.leastPrivileged) as a Microsoft Graph application permission of the app registration and grant admin consent, "
                    + "then start again (a new token carries it)")
        }
    }

    mutating func securityDefaultsAndLicence() async {
        let policies = stages("conditionalAccess.create") + stages("conditionalAccess.enable")
        guard !policies.isEmpty else { return }
        let ids = policies.map(\.id)
        let disabling = stages("securityDefaults.disable")
        do {
            let policy = try await graph.get("/policies/identitySecurityDefaultsEnforcementPolicy")
            if policy["isEnabled"]?.boolValue == true {
                if let stage = disabling.first, let at = index(of: "securityDefaults.disable"),
                    let create = index(of: "conditionalAccess.create"), at < create
                {
                    add(
                        .securityDefaults, .info,
                        "Security Defaults are on; stage \(stage.id) turns them off behind its gate, and MFA is not enforced until the restored policies are enabled",
                        stages: [stage.id] + ids,
                        fix: "keep the window short: approve the conditionalAccess.enable gate as soon as the report-only review is done")
                } else {
                    add(
                        .securityDefaults, .critical,
                        "Security Defaults are on in the target, so Graph refuses every Conditional Access policy of stage\(ids.count == 1 ? "" : "s") \(ids.joined(separator: ", "))",
                        stages: ids,
                        fix:
                            "add a securityDefaults.disable stage (with a gate) before the Conditional Access stages, as Runbooks/rebuild-new-tenant.yaml does"
                    )
                }
            }
        } catch {
            unreadable("Security Defaults (GET /policies/identitySecurityDefaultsEnforcementPolicy)", error, stages: ids)
        }
        do {
            let skus = try await graph.list("/subscribedSkus")
            let plans = Set(skus.flatMap { ($0["servicePlans"]?.arrayValue ?? []).compactMap { $0["servicePlanName"]?.stringValue } })
            if plans.isDisjoint(with: ["AAD_PREMIUM", "AAD_PREMIUM_P2"]) {
                let all = (disabling.map(\.id) + ids)
                add(
                    .conditionalAccessLicence, .critical,
                    "the target has no Entra ID P1 or P2 subscription, so Conditional Access cannot be used: stage\(all.count == 1 ? "" : "s") \(all.joined(separator: ", ")) would stop",
                    stages: all,
                    fix:
                        "buy Entra ID P1 or P2 (or start a trial) in the target before the rebuild, or remove the Conditional Access stages and keep Security Defaults on"
                )
            }
        } catch {
            unreadable("the subscribed SKUs (GET /subscribedSkus)", error, stages: ids)
        }
    }

    mutating func temporaryAccessPass() async {
        let passes = stages("users.accessPasses")
        guard !passes.isEmpty else { return }
        let ids = passes.map(\.id)
        do {
            let configuration = try await graph.get(
                "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass")
            guard configuration["state"]?.stringValue != "enabled" else { return }
            if let enable = stages("temporaryAccessPass.enable").first, let at = index(of: "temporaryAccessPass.enable"),
                let first = index(of: "users.accessPasses"), at < first
            {
                add(
                    .temporaryAccessPass, .info,
                    "the Temporary Access Pass method is disabled; stage \(enable.id) enables it for the recovery admins only",
                    stages: [enable.id] + ids, fix: "nothing to do; after the recovery, decide whether the method stays enabled")
            } else {
                add(
                    .temporaryAccessPass, .critical,
                    "the Temporary Access Pass method is disabled in the target, so stage\(ids.count == 1 ? "" : "s") \(ids.joined(separator: ", ")) would issue no pass",
                    stages: ids,
                    fix:
                        "add a temporaryAccessPass.enable stage for the same users before \(ids[0]), as Runbooks/rebuild-new-tenant.yaml does"
                )
            }
        } catch {
            unreadable("the Temporary Access Pass policy", error, stages: ids)
        }
    }

    mutating func domains() async {
        let custom = input.snapshot.domains.filter { !$0.isInitial && !$0.id.lowercased().hasSuffix(".onmicrosoft.com") }.map {
            $0.id.lowercased()
        }
        guard !custom.isEmpty, !input.runbook.restoresInPlace else { return }
        let verifying = stages("domains.verify").map(\.id)
        let userStages = stages("users.create")
        do {
            let target = try await graph.list("/domains")
            let verified = Set(target.filter { $0["isVerified"]?.boolValue == true }.compactMap { $0["id"]?.stringValue?.lowercased() })
            let pending = custom.filter { !verified.contains($0) }
            guard !pending.isEmpty else { return }
            add(
                .domainVerification, .info,
                "\(pending.count) custom domain\(pending.count == 1 ? " is" : "s are") not verified in the target yet: \(pending.joined(separator: ", "))",
                stages: verifying + stages("users.rename").map(\.id),
                fix:
                    "publish each TXT record domains.verify shows; a domain still verified in the old tenant cannot be verified until it is removed there "
                    + "(its users stay on the recovery domain meanwhile)",
                objects: pending.map { ReadinessObject(type: "domain", id: $0, name: $0) })
            // users.create without otherDomainsTo keeps UPNs on domains it does not map: Graph refuses them until verified.
            for stage in userStages where stage.options.string("otherDomainsTo") == nil && stage.options.bool("sameTenant") != true {
                let mapped = Set((stage.options.stringMap("upnDomainMap") ?? [:]).keys.map { $0.lowercased() })
                let refused = pending.filter { !mapped.contains($0) }
                if !refused.isEmpty {
                    add(
                        .domainVerification, .critical,
                        "stage \(stage.id) would create users on \(refused.joined(separator: ", ")), which the target has not verified: Graph refuses them",
                        stages: [stage.id],
                        fix:
                            "set `otherDomainsTo: ${recoveryDomain}` on \(stage.id) (and on users.rename), as Runbooks/rebuild-new-tenant.yaml does"
                    )
                }
            }
        } catch {
            unreadable("the target's domains (GET /domains)", error, stages: verifying)
        }
    }
}

extension TargetPreflight.Report {
    /// Records the findings in the run's event log (`preflight.assessed`, then one `readiness.finding` each), so the
    /// report's readiness section shows them with their fixes.
    package func record(in store: CheckpointStore, simulatedSeconds: Double?) async throws {
        try await store.append(.preflightAssessed(blocking: blocking.count, findings: findings.count), simulated: simulatedSeconds)
        for finding in findings {
            try await store.append(.readinessFinding(RecordedFinding(finding)), simulated: simulatedSeconds)
        }
    }

    /// The message a run stopped by the preflight ends with: each blocking gap, with its stages and fix.
    package var stopMessage: String {
        (["Target preflight: the run would stop midway; nothing was written."]
            + blocking.map {
                "  [\($0.kind.rawValue)] \($0.summary)\n    fix: \($0.fix)"
            }).joined(separator: "\n")
    }
}

import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// The readiness verdict: what a snapshot and a runbook would and would not bring back, checked
/// before the day they are needed. It reads only the snapshot and the runbook; it touches no tenant.
package enum Readiness {
    /// Days Graph keeps deleted users, Microsoft 365 groups, applications and service principals.
    package static let recycleBinDays = 30.0
    /// How close to the recycle-bin window an in-place snapshot starts to be a concern.
    package static let recycleBinWarningDays = 23.0

    /// What the checks look at.
    package struct Input: Sendable {
        package var snapshot: Snapshot
        /// The runbook, parameters substituted.
        package var runbook: Runbook
        /// Now, for the snapshot's age.
        package var now: Date
        /// The estimated recovery time in seconds (a tabletop's simulated total), when known.
        package var estimatedRTOSeconds: Double?

        package init(snapshot: Snapshot, runbook: Runbook, now: Date = Date(), estimatedRTOSeconds: Double? = nil) {
            self.snapshot = snapshot
            self.runbook = runbook
            self.now = now
            self.estimatedRTOSeconds = estimatedRTOSeconds
        }
    }

    /// Runs every check.
    package static func assess(_ input: Input) -> ReadinessReport {
        var checks = Checks(input)
        checks.secretsAndCertificates()
        checks.passwordsAndMFA()
        checks.syncedObjects()
        checks.licences()
        checks.mailEnabledSecurityGroups()
        checks.breakGlassAndOperator()
        checks.danglingReferences()
        checks.snapshotAge()
        checks.recoveryTime()
        let age = input.snapshot.manifest.capturedDate.map { input.now.timeIntervalSince($0) / 86_400 }
        return ReadinessReport(
            findings: checks.findings, snapshotCapturedAt: input.snapshot.manifest.capturedAt,
            snapshotAgeDays: age, runbook: input.runbook.name)
    }
}

/// The checks, one method per family of findings. A check only speaks about what the runbook restores.
struct Checks {
    let snapshot: Snapshot
    let runbook: Runbook
    let input: Readiness.Input
    let kinds: Set<String>
    /// The lockout guard of conditionalAccess.enable, asked the same questions it asks.
    let probe: LockoutGuardProbe
    var findings: [ReadinessFinding] = []

    init(_ input: Readiness.Input) {
        self.input = input
        snapshot = input.snapshot
        runbook = input.runbook
        kinds = Set(input.runbook.stages.map(\.kind))
        probe = LockoutGuardProbe(input.snapshot)
    }

    private func stages(_ kind: String) -> [Runbook.Stage] { runbook.stages.filter { $0.kind == kind } }

    private mutating func add(
        _ kind: ReadinessFinding.Kind, _ severity: ReadinessSeverity, _ summary: String,
        _ objects: [ReadinessObject], fix: String
    ) {
        findings.append(ReadinessFinding(kind: kind, severity: severity, summary: summary, objects: objects, fix: fix))
    }

    private func object(_ user: User) -> ReadinessObject { ReadinessObject(type: "user", id: user.id, name: user.userPrincipalName) }
    private func object<T: DirectoryObject>(_ item: T, note: String? = nil) -> ReadinessObject {
        ReadinessObject(type: T.objectType.rawValue, id: item.id, name: item.displayName, note: note)
    }

    // MARK: - What the backup cannot restore

    mutating func secretsAndCertificates() {
        guard kinds.contains("apps.create") else { return }
        let issuing = stages("apps.create").allSatisfy { $0.options.bool("issueSecrets") == true }
        let withSecrets = snapshot.applications.filter { !($0.properties["passwordCredentials"]?.arrayValue ?? []).isEmpty }
        if !withSecrets.isEmpty {
            let secrets = withSecrets.map { $0.properties["passwordCredentials"]?.arrayValue?.count ?? 0 }.reduce(0, +)
            add(
                .clientSecrets, issuing ? .info : .warning,
                "\(secrets) client secret\(secrets == 1 ? "" : "s") of \(withSecrets.count) app registration\(withSecrets.count == 1 ? "" : "s") cannot be restored"
                    + (issuing ? "; apps.create issues new ones" : ""),
                withSecrets.map { object($0, note: "\($0.properties["passwordCredentials"]?.arrayValue?.count ?? 0) secret(s)") },
                fix: issuing
                    ? "hand the new secrets from the secretsFile to the workloads that use them (key vaults, app settings)"
                    : "set issueSecrets: true and a secretsFile on the apps.create stage, list where each secret is used, or move the apps to certificates or federated credentials"
            )
        }
        let withoutKey = snapshot.applications.filter { app in
            (app.properties["keyCredentials"]?.arrayValue ?? []).contains { $0["key"]?.stringValue?.isEmpty != false }
        }
        if !withoutKey.isEmpty {
            add(
                .certificatesWithoutKey, .warning,
                "\(withoutKey.count) app registration\(withoutKey.count == 1 ? " has" : "s have") certificates whose public key the snapshot does not hold",
                withoutKey.map { object($0) },
                fix:
                    "capture keyCredentials with their key (GET /applications/{id}?$select=keyCredentials returns it), or keep the .cer files next to the backup"
            )
        }
    }

    mutating func passwordsAndMFA() {
        guard kinds.contains("users.create") else { return }
        let members = snapshot.users.filter { !$0.isGuest && !$0.onPremisesSyncEnabled }
        let keptNowhere = stages("users.create").filter { $0.options.string("passwordFile") == nil }
        if !members.isEmpty, !keptNowhere.isEmpty {
            add(
                .passwordsNotKept, .warning,
                "\(members.count) users get generated initial passwords that are not kept (stage \(keptNowhere.map(\.id).joined(separator: ", ")) has no passwordFile)",
                members.map(object),
                fix:
                    "set passwordFile on users.create (a 0600 file), or plan to issue Temporary Access Passes to every user after the rebuild"
            )
        }
        // Authentication methods never come back: anyone a policy asks for MFA must register again.
        guard kinds.contains("conditionalAccess.create") else { return }
        let mfaPolicies = snapshot.conditionalAccessPolicies.filter { policy in
            policy.state == "enabled"
                && (policy.properties["grantControls"]?["builtInControls"]?.stringArray?.contains("mfa") == true
                    || policy.properties["grantControls"]?["authenticationStrength"]?.objectValue != nil)
        }
        guard !mfaPolicies.isEmpty else { return }
        // Each policy's user conditions are worked out once, then asked about each user (a set look-up per user and policy).
        let selections = mfaPolicies.map(probe.selection)
        let affected = members.filter { user in selections.contains { $0.contains(user) } }
        guard !affected.isEmpty else { return }
        add(
            .authenticationMethods, .info,
            "\(affected.count) users must register MFA again: \(mfaPolicies.map { "\"\($0.displayName)\"" }.joined(separator: ", ")) require\(mfaPolicies.count == 1 ? "s" : "") it, and authentication methods cannot be restored",
            affected.map(object),
            fix: "issue Temporary Access Passes (they satisfy MFA) to these users, starting with the admins, before enabling the policies")
    }

    mutating func syncedObjects() {
        var synced: [ReadinessObject] = []
        if kinds.contains("users.create") { synced += snapshot.users.filter(\.onPremisesSyncEnabled).map(object) }
        if kinds.contains("groups.create") {
            synced += snapshot.groups.filter { $0[property: "onPremisesSyncEnabled"]?.boolValue == true }.map { object($0) }
        }
        guard !synced.isEmpty else { return }
        add(
            .syncedObjects, .warning,
            "\(synced.count) object\(synced.count == 1 ? " is" : "s are") synced from on-premises Active Directory and will not be recreated in the cloud",
            synced,
            fix:
                "restore them in the source AD if needed, then re-run Entra Connect sync against the rebuilt tenant (and point it at the new tenant)"
        )
    }

    mutating func licences() {
        guard kinds.contains("users.create") else { return }
        let licensed = snapshot.users.filter { !($0[property: "assignedLicenses"]?.arrayValue ?? []).isEmpty }
        let licensedGroups = snapshot.groups.filter { !($0[property: "assignedLicenses"]?.arrayValue ?? []).isEmpty }
        if !licensed.isEmpty || !licensedGroups.isEmpty {
            let skus = Set(
                (licensed.map { $0[property: "assignedLicenses"] } + licensedGroups.map { $0[property: "assignedLicenses"] }).flatMap {
                    ($0?.arrayValue ?? []).compactMap { $0["skuId"]?.stringValue }
                }
            ).sorted()
            add(
                .licences, .info,
                "\(licensed.count) users and \(licensedGroups.count) groups hold licences (\(skus.count) SKU\(skus.count == 1 ? "" : "s")); no stage restores licences",
                licensedGroups.map { object($0, note: "group-based licensing") } + licensed.map(object),
                fix:
                    "make sure the target has the subscriptions (SKUs \(skus.prefix(5).joined(separator: ", "))\(skus.count > 5 ? ", …" : "")), then reassign them, preferably through group-based licensing"
            )
        }
        let located = licensed.filter { ($0[property: "usageLocation"]?.stringValue ?? "").isEmpty }
        if !located.isEmpty {
            add(
                .licencesWithoutUsageLocation, .warning,
                "\(located.count) licensed user\(located.count == 1 ? " has" : "s have") no usageLocation: Graph refuses to license them",
                located.map(object),
                fix: "set usageLocation on these users in the source (or in the runbook's restored users) before licences are reassigned")
        }
    }

    mutating func mailEnabledSecurityGroups() {
        guard kinds.contains("groups.create") else { return }
        let groups = snapshot.groups.filter { $0.mailEnabled && $0.securityEnabled && !$0.isUnified }
        guard !groups.isEmpty else { return }
        add(
            .mailEnabledSecurityGroups, .warning,
            "\(groups.count) mail-enabled security group\(groups.count == 1 ? "" : "s") cannot be created through Microsoft Graph",
            groups.map { object($0) },
            fix:
                "recreate them in Exchange Online (New-DistributionGroup -Type Security), then re-run the runbook so that their members and references are restored"
        )
    }

    // MARK: - Break-glass accounts and the operator

    mutating func breakGlassAndOperator() {
        let enable = stages("conditionalAccess.enable")
        guard kinds.contains("conditionalAccess.create") || !enable.isEmpty else { return }
        let names = Array(Set(enable.flatMap { $0.options.stringList("breakGlass") ?? [] })).sorted()
        let operatorUPN = enable.compactMap { $0.options.string("operator") }.first
        let enforced = snapshot.conditionalAccessPolicies.filter { $0.state == "enabled" }

        if names.isEmpty {
            add(
                .breakGlass, .warning, "the runbook names no break-glass accounts: the lockout guard protects only the operator", [],
                fix:
                    "name two cloud-only break-glass accounts in conditionalAccess.enable's breakGlass option (the shipped runbooks take them as parameters)"
            )
        } else {
            let selections = enforced.map(probe.selection)
            var missing: [ReadinessObject] = [], disabled: [ReadinessObject] = [], notExcluded: [ReadinessObject] = []
            for name in names {
                guard let user = probe.user(name) else {
                    missing.append(ReadinessObject(type: "user", id: name, name: name, note: "not in the snapshot"))
                    continue
                }
                if !user.accountEnabled {
                    disabled.append(
                        ReadinessObject(type: "user", id: user.id, name: user.userPrincipalName, note: "accountEnabled is false"))
                }
                for (policy, selected) in zip(enforced, selections) where selected.contains(user) {
                    notExcluded.append(
                        ReadinessObject(
                            type: "conditionalAccessPolicy", id: policy.id, name: policy.displayName,
                            note: "applies to \(user.userPrincipalName)"))
                }
            }
            if !missing.isEmpty {
                add(
                    .breakGlass, .critical,
                    "break-glass account\(missing.count == 1 ? "" : "s") \(missing.map(\.name).joined(separator: ", ")) \(missing.count == 1 ? "is" : "are") not in the snapshot",
                    missing,
                    fix: "capture the break-glass accounts in the snapshot, or correct the breakGlass names (the runbook's parameters)")
            }
            if !disabled.isEmpty {
                add(
                    .breakGlass, .critical,
                    "break-glass account\(disabled.count == 1 ? " is" : "s are") disabled in the snapshot and would be restored disabled",
                    disabled,
                    fix: "enable the break-glass accounts in the source tenant and take a new snapshot; test their sign-in regularly")
            }
            if !notExcluded.isEmpty {
                add(
                    .breakGlass, .warning, "enforced Conditional Access policies apply to break-glass accounts",
                    notExcluded, fix: "exclude the break-glass accounts (or their exclusion group) from every policy, in the source tenant")
            }
        }

        if let operatorUPN, probe.user(operatorUPN) == nil {
            add(
                .operatorMissing, .warning,
                "the operator \(operatorUPN) named in the runbook is not in the snapshot: the lockout guard cannot protect them",
                [ReadinessObject(type: "user", id: operatorUPN, name: operatorUPN, note: "not in the snapshot")],
                fix: "pass the UPN (as in the snapshot) of the admin who runs the recovery as the operator parameter")
        }
        // The same guard conditionalAccess.enable consults: these policies would stay unenforced after the gate.
        var refused: [ReadinessObject] = []
        for policy in enforced {
            if let reason = probe.refusal(policy, operatorUPN: operatorUPN, breakGlass: names) {
                refused.append(ReadinessObject(type: "conditionalAccessPolicy", id: policy.id, name: policy.displayName, note: reason))
            }
        }
        if !refused.isEmpty {
            add(
                .operatorLockout, .critical,
                "\(refused.count) Conditional Access polic\(refused.count == 1 ? "y" : "ies") would lock out the operator or every break-glass account; the lockout guard will leave \(refused.count == 1 ? "it" : "them") unenforced",
                refused,
                fix:
                    "exclude the operator and the break-glass accounts (or a group holding them) from these policies in the source tenant, then take a new snapshot"
            )
        }
    }

    // MARK: - References to objects the snapshot lacks

    mutating func danglingReferences() {
        let known = snapshot.typeByID
        let appIds = Set(snapshot.applications.map(\.appId) + snapshot.servicePrincipals.map(\.appId))
        var dangling: [ReadinessObject] = []
        func check<T: DirectoryObject>(_ item: T, _ path: String, _ id: String?) {
            guard let id, !id.isEmpty, known[id] == nil else { return }
            dangling.append(
                ReadinessObject(
                    type: T.objectType.rawValue, id: item.id, name: item.displayName, note: "\(path) \(id) is not in the snapshot"))
        }
        if kinds.contains("groups.members") {
            for group in snapshot.groups where !group.isDynamic { for member in group.members { check(group, "member", member.id) } }
        }
        if kinds.contains("groups.owners") {
            for group in snapshot.groups { for owner in group.owners { check(group, "owner", owner.id) } }
        }
        if kinds.contains("adminUnits.members") {
            for unit in snapshot.administrativeUnits { for member in unit.members { check(unit, "member", member.id) } }
        }
        if kinds.contains("users.manager") {
            for user in snapshot.users { check(user, "manager", user.manager?.id) }
        }
        if kinds.contains("apps.owners") {
            for app in snapshot.applications {
                for owner in app.properties["owners"]?.arrayValue ?? [] { check(app, "owner", owner["id"]?.stringValue) }
            }
        }
        if kinds.contains("roles.assign") {
            for assignment in snapshot.roleAssignments {
                // roleDefinitionId is not checked: a built-in role's template id is valid in every tenant, captured or not.
                check(assignment, "principalId", assignment.principalId)
                let scope = assignment.directoryScopeId.split(separator: "/").last.map(String.init)
                if assignment.directoryScopeId != "/" { check(assignment, "directoryScopeId", scope) }
            }
        }
        if kinds.contains("appRoleAssignments.create") {
            for assignment in snapshot.appRoleAssignments {
                check(assignment, "principalId", assignment.principalId)
                check(assignment, "resourceId", assignment.resourceId)
            }
        }
        if kinds.contains("oauth2Grants.create") {
            for grant in snapshot.oauth2PermissionGrants {
                check(grant, "clientId", grant.clientId)
                check(grant, "resourceId", grant.resourceId)
                check(grant, "principalId", grant.principalId)
            }
        }
        if kinds.contains("conditionalAccess.create") {
            let builtInRoles = Set(snapshot.roleDefinitions.flatMap { [$0.id, $0.templateId ?? $0.id] })
            for policy in snapshot.conditionalAccessPolicies {
                let users = policy.properties["conditions"]?["users"]
                for key in ["includeUsers", "excludeUsers", "includeGroups", "excludeGroups"] {
                    for id in users?[key]?.stringArray ?? [] where !["All", "None", "GuestsOrExternalUsers"].contains(id) {
                        check(policy, "users.\(key)", id)
                    }
                }
                for key in ["includeRoles", "excludeRoles"] {
                    for id in users?[key]?.stringArray ?? [] where !builtInRoles.contains(id) { check(policy, "users.\(key)", id) }
                }
                let locations = policy.properties["conditions"]?["locations"]
                for key in ["includeLocations", "excludeLocations"] {
                    for id in locations?[key]?.stringArray ?? [] where !["All", "AllTrusted"].contains(id) {
                        check(policy, "locations.\(key)", id)
                    }
                }
                let applications = policy.properties["conditions"]?["applications"]
                for key in ["includeApplications", "excludeApplications"] {
                    for appId in applications?[key]?.stringArray ?? []
                    where !["All", "None", "Office365", "MicrosoftAdminPortals"].contains(appId) && !appIds.contains(appId) {
                        dangling.append(
                            ReadinessObject(
                                type: "conditionalAccessPolicy", id: policy.id, name: policy.displayName,
                                note: "applications.\(key) appId \(appId) is not in the snapshot"))
                    }
                }
            }
        }
        guard !dangling.isEmpty else { return }
        let referrers = Set(dangling.map(\.id)).count
        add(
            .danglingReferences, .warning,
            "\(dangling.count) reference\(dangling.count == 1 ? "" : "s") from \(referrers) object\(referrers == 1 ? "" : "s") point\(dangling.count == 1 ? "s" : "") at objects the snapshot does not hold; they will be skipped (a policy missing one is created disabled)",
            dangling,
            fix:
                "take a new snapshot that captures the referenced objects (devices and contacts are not captured: remove such references or plan them by hand)"
        )
    }

    // MARK: - Time

    mutating func snapshotAge() {
        guard let captured = snapshot.manifest.capturedDate else { return }
        let days = input.now.timeIntervalSince(captured) / 86_400
        let inPlace = kinds.contains("recycleBin.restore") || stages("users.create").contains { $0.options.bool("sameTenant") == true }
        let subject = ReadinessObject(
            type: "snapshot", id: snapshot.manifest.sourceTenantId, name: snapshot.directory.lastPathComponent,
            note: "captured \(snapshot.manifest.capturedAt)")
        let age = String(format: "%.0f", days)
        if inPlace, days > Readiness.recycleBinDays {
            add(
                .snapshotAge, .critical,
                "the snapshot is \(age) days old, beyond the \(Int(Readiness.recycleBinDays))-day recycle bin: objects deleted since it was taken may be purged already, and everything changed since is lost",
                [subject], fix: "take snapshots at least weekly (daily for large tenants) and rehearse with the newest one")
        } else if inPlace, days > Readiness.recycleBinWarningDays {
            add(
                .snapshotAge, .warning,
                "the snapshot is \(age) days old, within a week of the \(Int(Readiness.recycleBinDays))-day recycle bin window",
                [subject], fix: "take a new snapshot now; schedule captures at least weekly")
        } else if !inPlace, days > Readiness.recycleBinDays {
            add(
                .snapshotAge, .warning,
                "the snapshot is \(age) days old: everything created or changed since then will be missing from the rebuild",
                [subject], fix: "take snapshots at least weekly and rehearse with the newest one")
        }
    }

    mutating func recoveryTime() {
        guard let estimate = input.estimatedRTOSeconds, let objective = runbook.objective, estimate > objective else { return }
        add(
            .rtoOverObjective, .critical,
            "the estimated recovery time \(DurationText.format(estimate)) exceeds the runbook's objective \(DurationText.format(objective))",
            [],
            fix:
                "shorten the manual gates' estimatedDuration, restore in priority order (where/memberOf), split the work across app registrations, or agree a realistic objective"
        )
    }
}

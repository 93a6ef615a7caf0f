import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// What a snapshot holds and what of it cannot come back as it was: the analysis behind `lifeboat snapshot summary`.
package struct SnapshotSummary: Sendable {
    /// One restorability warning.
    package struct Warning: Sendable, Hashable {
        /// A stable identifier, e.g. `client-secrets`, `synced-users`, `recycle-bin-window`.
        package var code: String
        /// `warning` (something will not come back as it was) or `info` (worth knowing).
        package var severity: String
        package var type: ObjectType?
        /// How many objects it concerns.
        package var count: Int
        package var message: String
        package var action: String
    }

    /// Microsoft's recycle bin keeps deleted users, groups, apps, service principals and AUs this long.
    package static let recycleBinDays = 30

    package var directory: String
    package var sourceTenantId: String
    package var sourceInitialDomain: String?
    package var capturedAt: String
    package var toolVersion: String?
    /// Whole days between the capture and `now`; `nil` when the capture time does not parse.
    package var ageDays: Int?
    /// Objects per type, for the types the snapshot holds.
    package var counts: [(type: ObjectType, count: Int)]
    package var warnings: [Warning]
    /// What the source format lost, for imported snapshots.
    package var importLosses: ImportLossReport?

    /// Analyses a loaded snapshot as of `now`.
    package static func analyse(_ snapshot: Snapshot, now: Date = Date()) throws(SnapshotError) -> SnapshotSummary {
        let manifest = snapshot.manifest
        let listed = Set(manifest.files.keys)
        let counts = ObjectType.allCases.filter { listed.contains($0.fileName) }.map { (type: $0, count: snapshot.counts[$0] ?? 0) }
        let age = manifest.capturedDate.map { Int((now.timeIntervalSince($0) / 86_400).rounded(.down)) }
        let losses = try ImportLossReport.read(from: snapshot)
        var summary = SnapshotSummary(
            directory: snapshot.directory.path, sourceTenantId: manifest.sourceTenantId, sourceInitialDomain: manifest.sourceInitialDomain,
            capturedAt: manifest.capturedAt, toolVersion: manifest.toolVersion, ageDays: age, counts: counts, warnings: [],
            importLosses: losses)
        summary.warnings = warnings(snapshot, age: age, losses: losses)
        return summary
    }

    private static func warnings(_ snapshot: Snapshot, age: Int?, losses: ImportLossReport?) -> [Warning] {
        var warnings: [Warning] = []
        func add(_ code: String, _ severity: String, _ type: ObjectType?, _ count: Int, _ message: String, _ action: String) {
            guard count > 0 else { return }
            warnings.append(Warning(code: code, severity: severity, type: type, count: count, message: message, action: action))
        }
        func hasEntries(_ properties: JSONObject, _ key: String) -> Bool { !(properties[key]?.arrayValue ?? []).isEmpty }

        let secrets =
            snapshot.applications.filter { hasEntries($0.properties, "passwordCredentials") }.count
            + snapshot.servicePrincipals.filter { hasEntries($0.properties, "passwordCredentials") }.count
        add(
            "client-secrets", "warning", .application, secrets,
            "\(secrets) applications or service principals have client secrets (password credentials); secret values are never exported",
            "new secrets are issued on restore (addPassword): hand them to each app's owner and update the apps' configuration")
        let keysWithoutKey = (snapshot.applications.map(\.properties) + snapshot.servicePrincipals.map(\.properties)).filter { properties in
            (properties["keyCredentials"]?.arrayValue ?? []).contains { $0["key"] == nil || $0["key"]?.isNull == true }
        }.count
        add(
            "certificate-keys", "warning", .application, keysWithoutKey,
            "\(keysWithoutKey) applications or service principals have certificate credentials without the public key in the snapshot",
            "upload the certificates (public part) again after the restore")

        let cloudMembers = snapshot.users.filter { !$0.isGuest && !$0.onPremisesSyncEnabled }.count
        add(
            "passwords-and-mfa", "warning", .user, cloudMembers,
            "passwords and MFA / authentication-method registrations of \(cloudMembers) users cannot be restored",
            "restored users get new initial passwords (or a Temporary Access Pass) and must register MFA again")
        let synced = snapshot.users.filter(\.onPremisesSyncEnabled).count
        add(
            "synced-users", "warning", .user, synced,
            "\(synced) users are synced from on-premises Active Directory (onPremisesSyncEnabled)",
            "restore them in on-premises AD and let Entra Connect sync them; Lifeboat lists them as follow-ups")
        let syncedGroups = snapshot.groups.filter { $0.properties["onPremisesSyncEnabled"]?.boolValue == true }.count
        add(
            "synced-groups", "warning", .group, syncedGroups,
            "\(syncedGroups) groups are synced from on-premises Active Directory",
            "restore them in on-premises AD and let Entra Connect sync them")
        let guests = snapshot.users.filter(\.isGuest).count
        add(
            "guests", "info", .user, guests,
            "\(guests) guest users come back through a new invitation (guests.invite), not a copy",
            "guests must redeem the invitation again; their home-tenant accounts are unaffected")

        let mailSecurity = snapshot.groups.filter { $0.mailEnabled && $0.securityEnabled && !$0.isUnified }.count
        add(
            "mail-enabled-security-groups", "warning", .group, mailSecurity,
            "\(mailSecurity) mail-enabled security groups cannot be created through Microsoft Graph",
            "recreate them in Exchange Online (New-DistributionGroup -Type Security), then rerun to adopt them")
        let distributionLists = snapshot.groups.filter { $0.mailEnabled && !$0.securityEnabled && !$0.isUnified }.count
        add(
            "distribution-lists", "warning", .group, distributionLists,
            "\(distributionLists) distribution lists cannot be created through Microsoft Graph",
            "recreate them in Exchange Online, then rerun to adopt them")
        let dynamic = snapshot.groups.filter(\.isDynamic).count
        add(
            "dynamic-groups", "info", .group, dynamic,
            "\(dynamic) dynamic groups: their members are recomputed from the membership rule, not restored",
            "allow time for rule processing after the users are back before relying on these groups")

        let licensed = snapshot.users.filter { hasEntries($0.properties, "assignedLicenses") }
        let noLocation = licensed.filter { ($0.properties["usageLocation"]?.stringValue ?? "").isEmpty }.count
        add(
            "licences", "warning", .user, licensed.count,
            "\(licensed.count) users hold licences; licences are assigned again only if the target has the same SKUs"
                + (noLocation > 0 ? " (\(noLocation) of them have no usageLocation, which licence assignment needs)" : ""),
            "buy or move the subscriptions to the target tenant, and set usageLocation, before assigning licences")

        let known = Set(snapshot.typeByID.keys)
        var dangling = 0
        for group in snapshot.groups where !group.isDynamic {
            dangling += group.members.filter { !known.contains($0.id) }.count
        }
        for unit in snapshot.administrativeUnits { dangling += unit.members.filter { !known.contains($0.id) }.count }
        add(
            "unrestorable-members", "info", .group, dangling,
            "\(dangling) group or administrative-unit memberships point at objects not in the snapshot (devices, contacts, or objects not exported)",
            "those memberships are skipped; devices re-register and contacts must be recreated in Exchange Online")

        if let age {
            if age > recycleBinDays {
                add(
                    "recycle-bin-window", "warning", nil, age,
                    "the snapshot is \(age) days old, older than the \(recycleBinDays)-day recycle-bin window",
                    "objects deleted since the capture may be purged already and come back with new ids; \(age) days of changes are missing, so capture a fresh snapshot if the tenant is still readable"
                )
            } else {
                // Reported even at age 0: whether the recycle bin can still help is part of every summary.
                warnings.append(
                    Warning(
                        code: "recycle-bin-window", severity: "info", type: nil, count: max(age, 0),
                        message: "the snapshot is \(max(age, 0)) days old, within the \(recycleBinDays)-day recycle-bin window",
                        action:
                            "objects deleted after the capture can still be restored with their original ids from the recycle bin (restore-in-place tries it first)"
                    ))
            }
        } else {
            warnings.append(
                Warning(
                    code: "capture-time-unknown", severity: "warning", type: nil, count: 0,
                    message: "the manifest's capturedAt (\(snapshot.manifest.capturedAt)) is not an ISO 8601 time",
                    action: "check the snapshot's age by other means before relying on the recycle bin"))
        }
        if let losses, !losses.losses.isEmpty {
            let objects = Set(losses.losses.compactMap(\.objectId)).count
            add(
                "import-losses", "warning", nil, losses.losses.count,
                "imported from \(losses.importedFrom): \(losses.losses.count) losses (\(objects) objects affected) — the source format did not carry everything",
                "read the losses below (or importLosses.json) and restore what is missing by hand")
        }
        return warnings
    }

    /// The summary as JSON, for scripts.
    package var json: JSONValue {
        var document: JSONObject = [
            "directory": .string(directory), "sourceTenantId": .string(sourceTenantId),
            "sourceInitialDomain": sourceInitialDomain.map(JSONValue.string) ?? .null, "capturedAt": .string(capturedAt),
            "toolVersion": toolVersion.map(JSONValue.string) ?? .null, "ageDays": ageDays.map { JSONValue.number(Double($0)) } ?? .null,
            "recycleBinDays": .number(Double(Self.recycleBinDays)),
            "counts": .object(JSONObject(uniqueKeysWithValues: counts.map { ($0.type.rawValue, JSONValue.number(Double($0.count))) })),
            "warnings": .array(
                warnings.map { warning in
                    [
                        "code": .string(warning.code), "severity": .string(warning.severity),
                        "type": warning.type.map { JSONValue.string($0.rawValue) } ?? .null, "count": .number(Double(warning.count)),
                        "message": .string(warning.message), "action": .string(warning.action),
                    ]
                }),
        ]
        if let importLosses {
            document["import"] = [
                "importedFrom": .string(importLosses.importedFrom), "importedAt": .string(importLosses.importedAt),
                "losses": .number(Double(importLosses.losses.count)),
                "groups": .array(
                    importLosses.grouped.map { group in
                        [
                            "type": .string(group.type.rawValue), "property": group.property.map(JSONValue.string) ?? .null,
                            "column": group.column.map(JSONValue.string) ?? .null,
                            "kind": .string(group.kind), "wholeCollection": .bool(group.wholeCollection),
                            "objects": .number(Double(group.objects)), "reason": .string(group.example),
                            "files": .array(group.files.map(JSONValue.string)),
                        ]
                    }),
            ]
        } else {
            document["import"] = .null
        }
        return .object(document)
    }
}

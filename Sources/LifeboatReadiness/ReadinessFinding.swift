import Foundation
import LifeboatEngine
import LifeboatJSON

/// How much a finding matters before a recovery.
package enum ReadinessSeverity: String, Sendable, Codable, CaseIterable, Comparable {
    /// The recovery would fail, lock people out, or miss its objective: fix it before relying on this backup.
    case critical
    /// Something will not come back, or come back incomplete: plan the manual work.
    case warning
    /// Worth knowing before the day comes.
    case info

    private var rank: Int {
        switch self {
        case .critical: return 0
        case .warning: return 1
        case .info: return 2
        }
    }

    /// Critical sorts first.
    package static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// An object a finding is about.
package struct ReadinessObject: Sendable, Codable, Hashable {
    /// `user`, `group`, `application`, `conditionalAccessPolicy`, … (or `missing` for an id the snapshot lacks).
    package var type: String
    /// Its id in the source tenant.
    package var id: String
    /// Its display name or UPN.
    package var name: String
    /// What about it (e.g. the missing reference's path).
    package var note: String?

    package init(type: String, id: String, name: String, note: String? = nil) {
        self.type = type
        self.id = id
        self.name = name
        self.note = note
    }
}

/// One thing to know, or to fix, before this backup and runbook are relied on.
package struct ReadinessFinding: Sendable, Codable, Hashable {
    /// What kind of finding it is.
    package enum Kind: String, Sendable, Codable, CaseIterable {
        /// Client secrets of app registrations: never readable, new ones must be issued.
        case clientSecrets
        /// App certificates whose public key the snapshot does not hold.
        case certificatesWithoutKey
        /// Users get new passwords that are not kept anywhere.
        case passwordsNotKept
        /// Users in scope of policies requiring MFA must register again (methods are not restorable).
        case authenticationMethods
        /// Objects synced from on-premises AD: restore them at the source and re-sync.
        case syncedObjects
        /// Licences are not restored; the subscriptions must exist in the target.
        case licences
        /// Licensed users without `usageLocation` cannot be licensed again.
        case licencesWithoutUsageLocation
        /// Mail-enabled security groups cannot be created through Graph.
        case mailEnabledSecurityGroups
        /// No break-glass accounts are named, or those named are absent, disabled, or not excluded from policies.
        case breakGlass
        /// A Conditional Access policy would block the operator or every break-glass account.
        case operatorLockout
        /// The operator named in the runbook is not in the snapshot.
        case operatorMissing
        /// References to objects the snapshot does not hold.
        case danglingReferences
        /// The snapshot is older than the recycle-bin window (or close to it).
        case snapshotAge
        /// The estimated recovery time exceeds the runbook's objective.
        case rtoOverObjective
        // Target preflight (``TargetPreflight``): what the target tenant itself would refuse.
        /// The app's token lacks an application permission a stage needs.
        case permissionMissing
        /// Security Defaults are on in the target: Conditional Access policies cannot be created.
        case securityDefaults
        /// The target has no Entra ID P1/P2 subscription: Conditional Access cannot be used.
        case conditionalAccessLicence
        /// The Temporary Access Pass method is disabled in the target's authentication-methods policy.
        case temporaryAccessPass
        /// A custom domain of the snapshot is not verified in the target (UPNs, identifier URIs wait on it).
        case domainVerification
        /// The target could not be read for a preflight check.
        case preflightUnreadable
    }

    package var kind: Kind
    package var severity: ReadinessSeverity
    /// One sentence: what is wrong.
    package var summary: String
    /// The objects concerned (at most ``objectLimit``; ``objectCount`` says how many there are).
    package var objects: [ReadinessObject]
    /// How many objects are concerned in all.
    package var objectCount: Int
    /// What to do about it.
    package var fix: String
    /// The runbook stages the finding breaks (preflight findings), when it is about stages.
    package var stages: [String]?

    /// Objects kept per finding: enough to act on, bounded for tenants of 100,000 users.
    package static let objectLimit = 200

    package init(kind: Kind, severity: ReadinessSeverity, summary: String, objects: [ReadinessObject], fix: String, stages: [String]? = nil)
    {
        self.stages = stages
        self.kind = kind
        self.severity = severity
        self.summary = summary
        self.objects = Array(objects.prefix(Self.objectLimit))
        objectCount = objects.count
        self.fix = fix
    }
}

/// The verdict: every finding, most severe first.
package struct ReadinessReport: Sendable, Codable, Hashable {
    package var findings: [ReadinessFinding]
    /// When the snapshot was captured and how old it was at the time of the check, in days.
    package var snapshotCapturedAt: String
    package var snapshotAgeDays: Double?
    package var runbook: String

    package init(findings: [ReadinessFinding], snapshotCapturedAt: String, snapshotAgeDays: Double?, runbook: String) {
        self.findings = findings.sorted { ($0.severity, $0.kind.rawValue) < ($1.severity, $1.kind.rawValue) }
        self.snapshotCapturedAt = snapshotCapturedAt
        self.snapshotAgeDays = snapshotAgeDays
        self.runbook = runbook
    }

    /// `true` when a finding is critical (`lifeboat readiness` then exits 1).
    package var hasCritical: Bool { findings.contains { $0.severity == .critical } }

    package func count(_ severity: ReadinessSeverity) -> Int { findings.filter { $0.severity == severity }.count }

    /// The kinds found, for tests and summaries.
    package var kinds: Set<ReadinessFinding.Kind> { Set(findings.map(\.kind)) }
}

extension ReadinessReport {
    /// `2 critical, 1 warning, 3 info`, or `no findings`.
    package var tally: String {
        guard !findings.isEmpty else { return "no findings" }
        let warnings = count(.warning)
        return "\(count(.critical)) critical, \(warnings) warning\(warnings == 1 ? "" : "s"), \(count(.info)) info"
    }

    /// A terminal rendering: one block per finding with up to `objectsShown` objects.
    package func text(objectsShown: Int = 5) -> String {
        var lines = [
            "Readiness of \(runbook) with the snapshot captured \(snapshotCapturedAt)"
                + (snapshotAgeDays.map { String(format: " (%.0f days ago)", $0) } ?? "") + ": \(tally)"
        ]
        for finding in findings {
            lines.append(
                "  \(finding.severity.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)) [\(finding.kind.rawValue)] \(finding.summary)"
            )
            for object in finding.objects.prefix(objectsShown) {
                lines.append(
                    "             - \(object.type) \(object.name)" + (object.name == object.id ? "" : " (\(object.id))")
                        + (object.note.map { ": \($0)" } ?? ""))
            }
            if finding.objectCount > objectsShown {
                lines.append("             … and \(finding.objectCount - objectsShown) more")
            }
            lines.append("             fix: \(finding.fix)")
        }
        return lines.joined(separator: "\n")
    }
}

extension ReadinessReport {
    /// Objects of a finding kept in the run's event log (the finding's ``ReadinessFinding/objectCount`` says how many there are).
    package static let objectsRecorded = 20

    /// Records the verdict in a run's event log, so the post-incident report shows what the backup could not bring back:
    /// one `readiness.assessed` event, then one `readiness.finding` per finding with the finding as its detail.
    package func record(in store: CheckpointStore, simulatedSeconds: Double?) async throws {
        try await store.append(
            .readinessAssessed(runbook: runbook, snapshotCapturedAt: snapshotCapturedAt, tally: tally), simulated: simulatedSeconds)
        for finding in findings {
            var kept = finding
            kept.objects = Array(finding.objects.prefix(Self.objectsRecorded))
            try await store.append(.readinessFinding(RecordedFinding(kept)), simulated: simulatedSeconds)
        }
    }
}

extension RecordedFinding {
    /// The finding as a `readiness.finding` event records it (field for field: the detail keeps the finding's keys).
    package init(_ finding: ReadinessFinding) {
        self.init(
            severity: finding.severity.rawValue, kind: finding.kind.rawValue, summary: finding.summary, fix: finding.fix,
            objectCount: finding.objectCount,
            objects: finding.objects.map { RecordedFinding.Object(type: $0.type, id: $0.id, name: $0.name, note: $0.note) },
            stages: finding.stages)
    }
}

/// A new run records its readiness verdict once, when ``RunLauncher`` starts it.
extension ReadinessReport: RunInput {}

import LifeboatJSON

/// The kind a ``RunEvent`` is stored under: the text of the checkpoint's `events.kind` column, as it always was, so
/// existing checkpoints read; ``RunEvent/kind`` names it for every case, and ``RunEvent/init(record:)`` switches over it.
/// Used on its own where a query selects events by kind (``CheckpointStore/eventDetails(_:)``); a kind this version does
/// not know reads as ``unrecognized(_:)``.
package enum EventKind: Sendable, Hashable, CustomStringConvertible {
    case runStarted
    case runResumed
    /// `run.<status>` (`run.running`, `run.waiting`, `run.done`, `run.failed`, `run.pending`).
    case run(ProgressStatus)
    case runStopped
    case runbookChanged
    case snapshotSignature
    case readinessAssessed
    case readinessFinding
    case preflightAssessed
    /// `stage.<status>`.
    case stage(ProgressStatus)
    case stagePlanned
    case operationsSent
    case operationsRecorded
    case operationsRetry
    case operationsReconciling
    case operationAdopted
    case operationFailed
    case gateWaiting
    case gateApproved
    case gateDecision
    case followUpResolved
    case idMapExported
    case securityDefaultsDisabled
    case tenantRecorded
    case domainTXT
    case domainHeld
    case scenarioLoaded
    case scenarioSetup
    case scenarioInjected
    case scenarioRecovered
    case throttlingLimits
    /// `throttle.<cause>`.
    case throttle(String)
    /// A kind this version does not know (a newer writer); kept as stored.
    case unrecognized(String)

    private static let fixed: [(EventKind, String)] = [
        (.runStarted, "run.started"), (.runResumed, "run.resumed"), (.runStopped, "run.stopped"), (.runbookChanged, "run.runbook-changed"),
        (.snapshotSignature, "snapshot.signature"), (.readinessAssessed, "readiness.assessed"), (.readinessFinding, "readiness.finding"),
        (.preflightAssessed, "preflight.assessed"), (.stagePlanned, "stage.planned"), (.operationsSent, "operations.sent"),
        (.operationsRecorded, "operations.recorded"), (.operationsRetry, "operations.retry"),
        (.operationsReconciling, "operations.reconciling"),
        (.operationAdopted, "operation.adopted"), (.operationFailed, "operation.failed"), (.gateWaiting, "gate.waiting"),
        (.gateApproved, "gate.approved"), (.gateDecision, "gate.decision"), (.followUpResolved, "followup.resolved"),
        (.idMapExported, "idmap.exported"), (.securityDefaultsDisabled, "securityDefaults.disabled"), (.tenantRecorded, "tenant.recorded"),
        (.domainTXT, "domain.txt"), (.domainHeld, "domain.held"), (.scenarioLoaded, "scenario.loaded"), (.scenarioSetup, "scenario.setup"),
        (.scenarioInjected, "scenario.injected"), (.scenarioRecovered, "scenario.recovered"),
        (.throttlingLimits, "tabletop.throttling-limits"),
    ]
    private static let byText = Dictionary(uniqueKeysWithValues: fixed.map { ($0.1, $0.0) })

    /// Reads a stored kind.
    package init(_ text: String) {
        if let known = Self.byText[text] {
            self = known
        } else if text.hasPrefix("run."), let status = ProgressStatus(rawValue: String(text.dropFirst(4))) {
            self = .run(status)
        } else if text.hasPrefix("stage."), let status = ProgressStatus(rawValue: String(text.dropFirst(6))) {
            self = .stage(status)
        } else if text.hasPrefix("throttle.") {
            self = .throttle(String(text.dropFirst(9)))
        } else {
            self = .unrecognized(text)
        }
    }

    /// The kind as stored.
    package var rawValue: String {
        switch self {
        case .run(let status): return "run.\(status.rawValue)"
        case .stage(let status): return "stage.\(status.rawValue)"
        case .throttle(let cause): return "throttle.\(cause)"
        case .unrecognized(let text): return text
        default: return Self.fixed.first { $0.0 == self }!.1
        }
    }

    package var description: String { rawValue }
}

extension EventRecord {
    /// The event's kind, typed.
    package var eventKind: EventKind { EventKind(kind) }
}

extension CheckpointStore {
    /// The messages and details of every event of `kind`, in order.
    package func eventDetails(_ kind: EventKind) throws -> [(message: String, detail: JSONValue?)] {
        try eventDetails(kind: kind.rawValue)
    }
}

/// A finding as the detail of a ``RunEvent/readinessFinding(_:)`` event holds it: written by the readiness assessment and the
/// target preflight (their findings encode to this shape), read by the report. Fields a checkpoint lacks read as empty.
package struct RecordedFinding: Sendable, Codable, Hashable {
    /// One object a finding is about.
    package struct Object: Sendable, Codable, Hashable {
        package var type: String?
        package var id: String?
        package var name: String?
        package var note: String?

        package init(type: String?, id: String?, name: String?, note: String?) {
            self.type = type
            self.id = id
            self.name = name
            self.note = note
        }
    }

    /// `critical`, `warning` or `info`.
    package var severity: String
    /// The finding's kind, e.g. `clientSecrets`, `permissionMissing`.
    package var kind: String
    package var summary: String
    package var fix: String
    /// How many objects the finding is about; ``objects`` holds the first of them.
    package var objectCount: Int
    package var objects: [Object]
    /// The stages a preflight finding concerns.
    package var stages: [String]?

    package init(severity: String, kind: String, summary: String, fix: String, objectCount: Int, objects: [Object], stages: [String]? = nil)
    {
        self.severity = severity
        self.kind = kind
        self.summary = summary
        self.fix = fix
        self.objectCount = objectCount
        self.objects = objects
        self.stages = stages
    }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        severity = try container.decodeIfPresent(String.self, forKey: .severity) ?? "info"
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "unknown"
        summary = try container.decodeIfPresent(String.self, forKey: .summary) ?? ""
        fix = try container.decodeIfPresent(String.self, forKey: .fix) ?? ""
        objectCount = try container.decodeIfPresent(Int.self, forKey: .objectCount) ?? 0
        objects = try container.decodeIfPresent([Object].self, forKey: .objects) ?? []
        stages = try container.decodeIfPresent([String].self, forKey: .stages)
    }

    /// Reads an event's detail; `nil` when it is not a finding (not a JSON object).
    package init?(detail: JSONValue) {
        guard case .object = detail, let data = try? JSONCoding.encode(detail),
            let finding = try? JSONCoding.decode(RecordedFinding.self, from: data)
        else { return nil }
        self = finding
    }

    /// The finding as an event's detail (sorted keys, as ``JSONCoding`` writes them).
    package var detail: JSONValue {
        (try? JSONCoding.encode(self)).flatMap { try? JSONCoding.decode($0) } ?? .null
    }
}

import LifeboatJSON

/// The kinds of event a run's log holds: every writer names its kind here and every reader switches over it, so a kind
/// cannot be renamed on one side only. Stored as the text of ``rawValue`` (the checkpoint's `events.kind` column, as it
/// always was), so existing checkpoints read; a kind this version does not know reads as ``other(_:)``.
public enum EventKind: Sendable, Hashable, CustomStringConvertible {
    /// `run.started`: a new run, with its mode, runbook and operator.
    case runStarted
    /// `run.resumed`: another invocation picked the run up.
    case runResumed
    /// `run.<status>`: the run's status changed (`run.running`, `run.waiting`, `run.done`, `run.failed`, `run.pending`).
    case run(ProgressStatus)
    /// `run.stopped`: the operator stopped the run between operations.
    case runStopped
    /// `run.runbook-changed`: the runbook's hash differs from the one the run started with.
    case runbookChanged
    /// `snapshot.signature`: what the chain of custody says about the snapshot's signature.
    case snapshotSignature
    /// `readiness.assessed` and `readiness.finding` (a finding as its detail, from readiness or the target preflight).
    case readinessAssessed
    case readinessFinding
    /// `preflight.assessed`: the target preflight ran.
    case preflightAssessed
    /// `stage.<status>`: a stage's status changed; `stage.planned`: its operations were inserted.
    case stage(ProgressStatus)
    case stagePlanned
    /// Operation windows: intents committed (`operations.sent`), results committed (`operations.recorded`), failed ones
    /// queued again (`operations.retry`), in-flight ones looked up after a crash (`operations.reconciling`).
    case operationsSent
    case operationsRecorded
    case operationsRetry
    case operationsReconciling
    /// `operation.adopted` / `operation.failed`: one operation's notable outcome.
    case operationAdopted
    case operationFailed
    /// `gate.waiting`, `gate.approved`, and a facilitated exercise's `gate.decision`.
    case gateWaiting
    case gateApproved
    case gateDecision
    /// `followup.resolved`: follow-ups were dealt with.
    case followUpResolved
    /// Stage records: `idmap.exported`, `securityDefaults.disabled`, `tenant.recorded`, `domain.txt`, `domain.held`.
    case idMapExported
    case securityDefaultsDisabled
    case tenantRecorded
    case domainTXT
    case domainHeld
    /// Tabletop scenarios: `scenario.loaded`, `scenario.setup`, `scenario.injected`, `scenario.recovered`.
    case scenarioLoaded
    case scenarioSetup
    case scenarioInjected
    case scenarioRecovered
    /// `tabletop.throttling-limits`: simulated waiting per throttling limit in one session.
    case throttlingLimits
    /// `throttle.<cause>`: Graph answered 429 or 503 with Retry-After.
    case throttle(String)
    /// A kind this version does not know (a newer writer); kept as stored.
    case other(String)

    private static let fixed: [(EventKind, String)] = [
        (.runStarted, "run.started"), (.runResumed, "run.resumed"), (.runStopped, "run.stopped"), (.runbookChanged, "run.runbook-changed"),
        (.snapshotSignature, "snapshot.signature"), (.readinessAssessed, "readiness.assessed"), (.readinessFinding, "readiness.finding"),
        (.preflightAssessed, "preflight.assessed"), (.stagePlanned, "stage.planned"), (.operationsSent, "operations.sent"),
        (.operationsRecorded, "operations.recorded"), (.operationsRetry, "operations.retry"), (.operationsReconciling, "operations.reconciling"),
        (.operationAdopted, "operation.adopted"), (.operationFailed, "operation.failed"), (.gateWaiting, "gate.waiting"),
        (.gateApproved, "gate.approved"), (.gateDecision, "gate.decision"), (.followUpResolved, "followup.resolved"),
        (.idMapExported, "idmap.exported"), (.securityDefaultsDisabled, "securityDefaults.disabled"), (.tenantRecorded, "tenant.recorded"),
        (.domainTXT, "domain.txt"), (.domainHeld, "domain.held"), (.scenarioLoaded, "scenario.loaded"), (.scenarioSetup, "scenario.setup"),
        (.scenarioInjected, "scenario.injected"), (.scenarioRecovered, "scenario.recovered"), (.throttlingLimits, "tabletop.throttling-limits"),
    ]
    private static let byText = Dictionary(uniqueKeysWithValues: fixed.map { ($0.1, $0.0) })

    /// Reads a stored kind.
    public init(_ text: String) {
        if let known = Self.byText[text] {
            self = known
        } else if text.hasPrefix("run."), let status = ProgressStatus(rawValue: String(text.dropFirst(4))) {
            self = .run(status)
        } else if text.hasPrefix("stage."), let status = ProgressStatus(rawValue: String(text.dropFirst(6))) {
            self = .stage(status)
        } else if text.hasPrefix("throttle.") {
            self = .throttle(String(text.dropFirst(9)))
        } else {
            self = .other(text)
        }
    }

    /// The kind as stored.
    public var rawValue: String {
        switch self {
        case .run(let status): return "run.\(status.rawValue)"
        case .stage(let status): return "stage.\(status.rawValue)"
        case .throttle(let cause): return "throttle.\(cause)"
        case .other(let text): return text
        default: return Self.fixed.first { $0.0 == self }!.1
        }
    }

    public var description: String { rawValue }
}

extension EventRecord {
    /// The event's kind, typed.
    public var eventKind: EventKind { EventKind(kind) }
}

extension CheckpointStore {
    /// Appends an event to the run's log (in the caller's transaction, if any).
    public func append(_ kind: EventKind, stageID: String? = nil, operationKey: String? = nil, message: String, detail: JSONValue? = nil,
                       simulated: Double?) throws {
        try appendEvent(kind: kind.rawValue, stageID: stageID, operationKey: operationKey, message: message, detail: detail, simulated: simulated)
    }

    /// The messages and details of every event of `kind`, in order.
    public func eventDetails(_ kind: EventKind) throws -> [(message: String, detail: JSONValue?)] {
        try eventDetails(kind: kind.rawValue)
    }
}

/// A finding as the detail of a ``EventKind/readinessFinding`` event holds it: written by the readiness assessment and the
/// target preflight (their findings encode to this shape), read by the report. Fields a checkpoint lacks read as empty.
public struct RecordedFinding: Sendable, Codable, Hashable {
    /// One object a finding is about.
    public struct Object: Sendable, Codable, Hashable {
        public var type: String?
        public var id: String?
        public var name: String?
        public var note: String?
    }

    /// `critical`, `warning` or `info`.
    public var severity: String
    /// The finding's kind, e.g. `clientSecrets`, `permissionMissing`.
    public var kind: String
    public var summary: String
    public var fix: String
    /// How many objects the finding is about; ``objects`` holds the first of them.
    public var objectCount: Int
    public var objects: [Object]
    /// The stages a preflight finding concerns.
    public var stages: [String]?

    public init(from decoder: any Decoder) throws {
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
    public init?(detail: JSONValue) {
        guard case .object = detail, let data = try? JSONCoding.encode(detail),
              let finding = try? JSONCoding.decode(RecordedFinding.self, from: data) else { return nil }
        self = finding
    }
}

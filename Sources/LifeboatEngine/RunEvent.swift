import Foundation
import LifeboatJSON

/// One event of a run's log, typed: what every writer appends and what every reader (the report, the RTO estimate, the
/// tabletop) switches over, so that renaming a case or a payload field is a compile error on both sides.
///
/// Stored as it always was, as a kind (``kind``, the `events.kind` column), a message (``message``) and an optional
/// detail (``detail``, JSON), with the stage and operation a case names in their own columns. The message is the
/// payload's human text; where a payload field lives only in the message (rows written before this type existed hold
/// nothing else), ``init(record:)`` reads it back from the message and keeps the typed case only when it renders the
/// stored message exactly; anything else (a kind this version does not know, a detail or message that does not read)
/// becomes ``unrecognized(kind:stageID:operationKey:message:detail:)``.
package enum RunEvent: Sendable, Hashable {
    /// `run.started`: a new run.
    case runStarted(mode: RunMode, runbookName: String, operatorName: String, host: String)
    /// `run.resumed`: another invocation picked the run up.
    case runResumed(operatorName: String, host: String)
    /// `run.<status>`: the run's status changed, with the executor's words.
    case runStatus(ProgressStatus, note: String)
    /// `run.stopped`: the operator stopped the run between operations (during a stage, or before the first).
    case runStopped(stageID: String?)
    /// `run.runbook-changed`: the runbook's hash differs from the one the run started with.
    case runbookChanged(fromSHA256: String, toSHA256: String)
    /// `snapshot.signature`: what the chain of custody says about the snapshot's signature.
    case snapshotSignature(statement: String)
    /// `readiness.assessed`: the readiness verdict recorded when the run started.
    case readinessAssessed(runbook: String, snapshotCapturedAt: String, tally: String)
    /// `readiness.finding`: one finding of the readiness assessment or the target preflight (the finding is the detail).
    case readinessFinding(RecordedFinding)
    /// `preflight.assessed`: the target preflight ran.
    case preflightAssessed(blocking: Int, findings: Int)
    /// `stage.<status>`: a stage's status changed, with the executor's words.
    case stageStatus(stageID: String, ProgressStatus, note: String)
    /// `stage.planned`: a stage's operations were inserted.
    case stagePlanned(stageID: String, operations: Int)
    /// `operations.sent`: a window's intents were committed (the keys are the detail).
    case operationsSent(stageID: String, keys: [String])
    /// `operations.recorded`: a window's results were committed, counted by result (`created`, `failed`, `retry`, …).
    case operationsRecorded(stageID: String, results: [String: Int])
    /// `operations.retry`: failed operations were queued again.
    case operationsRetry(stageID: String, operations: Int)
    /// `operations.reconciling`: writes in flight when the last process stopped are looked up before anything is retried.
    case operationsReconciling(stageID: String, operations: Int)
    /// `operation.adopted`: the object already existed in the target.
    case operationAdopted(stageID: String, operationKey: String, displayName: String, newID: String?)
    /// `operation.failed`: one operation failed; ``OperationFailure`` builds the summary (name, Graph code, message, request-id).
    case operationFailed(stageID: String, operationKey: String, summary: String)
    /// `gate.waiting`: a gate opened.
    case gateWaiting(stageID: String)
    /// `gate.approved`: a gate was approved, by whom and with which note.
    case gateApproved(stageID: String, by: String, note: String?)
    /// `gate.decision`: what happened at a facilitated exercise's gate prompt.
    case gateDecision(stageID: String, text: String)
    /// `followup.resolved`: follow-ups a later stage dealt with were withdrawn.
    case followUpsResolved(stageID: String, count: Int, category: String, sourceID: String)
    /// `idmap.exported`: the ID map was written to a file.
    case idMapExported(stageID: String, rows: Int, path: String)
    /// `securityDefaults.disabled`: Security Defaults were turned off so Conditional Access can be restored.
    case securityDefaultsDisabled(stageID: String)
    /// `tenant.recorded`: the new target tenant's id and initial domain.
    case tenantRecorded(stageID: String, tenantID: String, initialDomain: String)
    /// `domain.txt`: the TXT record to publish so a domain can be verified.
    case domainTXT(stageID: String, domain: String, record: String)
    /// `domain.held`: a domain is verified in another tenant (Graph's error code).
    case domainHeld(stageID: String, domain: String, code: String)
    /// `scenario.loaded`: a tabletop scenario and its injected events.
    case scenarioLoaded(summary: String)
    /// `scenario.setup`: an in-place target was filled with the snapshot's objects.
    case scenarioSetup(objects: Int)
    /// `scenario.injected`: a scenario event (or one chosen at a gate) was applied; `eventKey` identifies it.
    case scenarioInjected(stageID: String?, eventKey: String, text: String)
    /// `scenario.recovered`: the operator is back after a scenario's kill.
    case scenarioRecovered(stageID: String, eventKey: String, text: String)
    /// `tabletop.throttling-limits`: simulated waiting per throttling limit in one session.
    case throttlingLimits([ThrottlingLimitFigure])
    /// `throttle.<cause>`: Graph answered 429 or 503 with Retry-After (the detail holds `retryAfter` and `endpoint`).
    case throttled(cause: String, stageID: String?, note: String, retryAfterSeconds: Double?, endpoint: String?)
    /// A kind this version does not know (a newer writer), or a row whose message or detail does not read as its kind;
    /// kept as stored.
    case unrecognized(kind: String, stageID: String?, operationKey: String?, message: String, detail: JSONValue?)

    /// The kind it is stored under (the text of ``EventKind/rawValue``, as checkpoints always held it).
    package var kind: EventKind {
        switch self {
        case .runStarted: .runStarted
        case .runResumed: .runResumed
        case .runStatus(let status, _): .run(status)
        case .runStopped: .runStopped
        case .runbookChanged: .runbookChanged
        case .snapshotSignature: .snapshotSignature
        case .readinessAssessed: .readinessAssessed
        case .readinessFinding: .readinessFinding
        case .preflightAssessed: .preflightAssessed
        case .stageStatus(_, let status, _): .stage(status)
        case .stagePlanned: .stagePlanned
        case .operationsSent: .operationsSent
        case .operationsRecorded: .operationsRecorded
        case .operationsRetry: .operationsRetry
        case .operationsReconciling: .operationsReconciling
        case .operationAdopted: .operationAdopted
        case .operationFailed: .operationFailed
        case .gateWaiting: .gateWaiting
        case .gateApproved: .gateApproved
        case .gateDecision: .gateDecision
        case .followUpsResolved: .followUpResolved
        case .idMapExported: .idMapExported
        case .securityDefaultsDisabled: .securityDefaultsDisabled
        case .tenantRecorded: .tenantRecorded
        case .domainTXT: .domainTXT
        case .domainHeld: .domainHeld
        case .scenarioLoaded: .scenarioLoaded
        case .scenarioSetup: .scenarioSetup
        case .scenarioInjected: .scenarioInjected
        case .scenarioRecovered: .scenarioRecovered
        case .throttlingLimits: .throttlingLimits
        case .throttled(let cause, _, _, _, _): .throttle(cause)
        case .unrecognized(let kind, _, _, _, _): EventKind(kind)
        }
    }

    /// The stage the event is about (the `events.stage_id` column).
    package var stageID: String? {
        switch self {
        case .runStopped(let stage), .scenarioInjected(let stage, _, _), .throttled(_, let stage, _, _, _),
            .unrecognized(_, let stage, _, _, _):
            stage
        case .stageStatus(let stage, _, _), .stagePlanned(let stage, _), .operationsSent(let stage, _), .operationsRecorded(let stage, _),
            .operationsRetry(let stage, _), .operationsReconciling(let stage, _), .operationAdopted(let stage, _, _, _),
            .operationFailed(let stage, _, _), .gateWaiting(let stage), .gateApproved(let stage, _, _), .gateDecision(let stage, _),
            .followUpsResolved(let stage, _, _, _), .idMapExported(let stage, _, _), .securityDefaultsDisabled(let stage),
            .tenantRecorded(let stage, _, _), .domainTXT(let stage, _, _), .domainHeld(let stage, _, _),
            .scenarioRecovered(let stage, _, _):
            stage
        case .runStarted, .runResumed, .runStatus, .runbookChanged, .snapshotSignature, .readinessAssessed, .readinessFinding,
            .preflightAssessed, .scenarioLoaded, .scenarioSetup, .throttlingLimits:
            nil
        }
    }

    /// The operation (or scenario event) the event is about (the `events.operation_key` column).
    package var operationKey: String? {
        switch self {
        case .operationAdopted(_, let key, _, _), .operationFailed(_, let key, _), .scenarioInjected(_, let key, _),
            .scenarioRecovered(_, let key, _):
            key
        case .unrecognized(_, _, let key, _, _):
            key
        default:
            nil
        }
    }

    /// The human text stored with the event (shown by `status`, the report's timeline and interruptions).
    package var message: String {
        switch self {
        case .runStarted(let mode, let runbook, let person, let host): "\(mode.rawValue) run of \(runbook) started by \(person) on \(host)"
        case .runResumed(let person, let host): "resumed by \(person) on \(host)"
        case .runStatus(_, let note), .stageStatus(_, _, let note): note
        case .runStopped: "stopped cleanly at an operation boundary; no write is in flight"
        case .runbookChanged(let from, let to): "runbook hash changed from \(from) to \(to)"
        case .snapshotSignature(let statement): statement
        case .readinessAssessed(let runbook, let captured, let tally):
            "Readiness of \(runbook) with the snapshot captured \(captured): \(tally)"
        case .readinessFinding(let finding): "\(finding.severity) [\(finding.kind)] \(finding.summary)"
        case .preflightAssessed(let blocking, let findings):
            "Target preflight: \(findings == 0 ? "no findings" : "\(blocking) blocking, \(findings) in all")"
        case .stagePlanned(_, let count): "\(count) operations planned"
        case .operationsSent(_, let keys): "\(keys.count) writes about to be sent"
        case .operationsRecorded(_, let results): results.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        case .operationsRetry(_, let count): "\(count) failed operations will be retried"
        case .operationsReconciling(_, let count):
            "\(count) writes were in flight when the last run stopped; looking them up before retrying"
        case .operationAdopted(_, _, let name, let newID):
            "\(name) already existed in the target (\(newID ?? "?")); adopted instead of written again"
        case .operationFailed(_, _, let summary): summary
        case .gateWaiting: "waiting for approval"
        case .gateApproved(_, let person, let note): "approved by \(person)" + (note.map { ": \($0)" } ?? "")
        case .gateDecision(_, let text), .scenarioInjected(_, _, let text), .scenarioRecovered(_, _, let text): text
        case .followUpsResolved(_, let count, let category, let source): "\(count) \(category) follow-up(s) for \(source) dealt with"
        case .idMapExported(_, let rows, let path): "\(rows) ID-map rows written to \(path)"
        case .securityDefaultsDisabled:
            "Security Defaults turned off: no MFA is enforced until the restored Conditional Access policies are enabled"
        case .tenantRecorded(_, let tenant, let domain): "target tenant \(tenant) with initial domain \(domain)"
        case .domainTXT(_, let domain, let record): "publish TXT \(record) at \(domain) (TTL 3600) so that \(domain) can be verified"
        case .domainHeld(_, let domain, let code): "\(domain) is verified in another tenant (\(code)); stopped polling"
        case .scenarioLoaded(let summary): summary
        case .scenarioSetup(let count): "in-place target: the fake tenant holds the snapshot's \(count) objects with their original ids"
        case .throttlingLimits: "simulated waiting per throttling limit in this session"
        case .throttled(_, _, let note, _, _): note
        case .unrecognized(_, _, _, let message, _): message
        }
    }

    /// The JSON stored with the event, with the keys checkpoints always held.
    package var detail: JSONValue? {
        switch self {
        case .readinessFinding(let finding): finding.detail
        case .operationsSent(_, let keys): .array(keys.map(JSONValue.string))
        case .throttlingLimits(let figures): ["limits": .array(figures.map(\.detail))]
        case .throttled(_, _, _, let retryAfter, let endpoint): Self.throttleDetail(retryAfter: retryAfter, endpoint: endpoint)
        case .unrecognized(_, _, _, _, let detail): detail
        default: nil
        }
    }

    private static func throttleDetail(retryAfter: Double?, endpoint: String?) -> JSONValue? {
        var object = JSONObject()
        if let retryAfter { object["retryAfter"] = .number(retryAfter) }
        if let endpoint { object["endpoint"] = .string(endpoint) }
        return object.isEmpty ? nil : .object(object)
    }
}

// MARK: - Reading a stored row

extension RunEvent {
    /// Reads a stored event into its typed case; a kind this version does not know, or a row that does not read as its
    /// kind, is ``unrecognized(kind:stageID:operationKey:message:detail:)`` (never a crash).
    package init(record: EventRecord) {
        let unrecognized = RunEvent.unrecognized(
            kind: record.kind, stageID: record.stageID, operationKey: record.operationKey,
            message: record.message, detail: record.detail)
        guard let event = Self.typed(record) else {
            self = unrecognized
            return
        }
        // A finding is its detail (the report shows every finding it can read, whatever its message).
        if case .readinessFinding = event {
            self = event
            return
        }
        guard event.message == record.message, event.stageID == record.stageID, event.operationKey == record.operationKey else {
            self = unrecognized
            return
        }
        self = event
    }

    private static func typed(_ record: EventRecord) -> RunEvent? {
        let text = MessageText(record.message)
        let stage = record.stageID
        switch EventKind(record.kind) {
        case .runStarted:
            guard case let (modeText, rest)? = text.split(" run of "), let mode = RunMode(rawValue: modeText),
                case let (named, host)? = MessageText(rest).splitLast(" on "),
                case let (runbook, person)? = MessageText(named).split(" started by ")
            else { return nil }
            return .runStarted(mode: mode, runbookName: runbook, operatorName: person, host: host)
        case .runResumed:
            guard let rest = text.after("resumed by "), case let (person, host)? = MessageText(rest).splitLast(" on ") else { return nil }
            return .runResumed(operatorName: person, host: host)
        case .run(let status):
            return .runStatus(status, note: record.message)
        case .runStopped:
            return .runStopped(stageID: stage)
        case .runbookChanged:
            guard let rest = text.after("runbook hash changed from "), case let (from, to)? = MessageText(rest).split(" to ") else {
                return nil
            }
            return .runbookChanged(fromSHA256: from, toSHA256: to)
        case .snapshotSignature:
            return .snapshotSignature(statement: record.message)
        case .readinessAssessed:
            guard let rest = text.after("Readiness of "),
                case let (runbook, verdict)? = MessageText(rest).split(" with the snapshot captured "),
                case let (captured, tally)? = MessageText(verdict).split(": ")
            else { return nil }
            return .readinessAssessed(runbook: runbook, snapshotCapturedAt: captured, tally: tally)
        case .readinessFinding:
            return record.detail.flatMap(RecordedFinding.init(detail:)).map { .readinessFinding($0) }
        case .preflightAssessed:
            if record.message == "Target preflight: no findings" { return .preflightAssessed(blocking: 0, findings: 0) }
            guard let rest = text.after("Target preflight: "), case let (blocking, all)? = MessageText(rest).split(" blocking, "),
                let blockingCount = Int(blocking), let count = MessageText(all).before(" in all").flatMap({ Int($0) })
            else { return nil }
            return .preflightAssessed(blocking: blockingCount, findings: count)
        case .stage(let status):
            return stage.map { .stageStatus(stageID: $0, status, note: record.message) }
        case .stagePlanned:
            guard let stage, let count = text.leadingCount(" operations planned") else { return nil }
            return .stagePlanned(stageID: stage, operations: count)
        case .operationsSent:
            guard let stage, let keys = record.detail?.stringArray else { return nil }
            return .operationsSent(stageID: stage, keys: keys)
        case .operationsRecorded:
            guard let stage else { return nil }
            var results: [String: Int] = [:]
            for part in record.message.components(separatedBy: ", ") where !record.message.isEmpty {
                guard case let (count, result)? = MessageText(part).split(" "), let number = Int(count) else { return nil }
                results[result] = number
            }
            return .operationsRecorded(stageID: stage, results: results)
        case .operationsRetry:
            guard let stage, let count = text.leadingCount(" failed operations will be retried") else { return nil }
            return .operationsRetry(stageID: stage, operations: count)
        case .operationsReconciling:
            guard let stage,
                let count = text.leadingCount(" writes were in flight when the last run stopped; looking them up before retrying")
            else { return nil }
            return .operationsReconciling(stageID: stage, operations: count)
        case .operationAdopted:
            guard let stage, let key = record.operationKey, let rest = text.before("); adopted instead of written again"),
                case let (name, newID)? = MessageText(rest).splitLast(" already existed in the target (")
            else { return nil }
            return .operationAdopted(stageID: stage, operationKey: key, displayName: name, newID: newID == "?" ? nil : newID)
        case .operationFailed:
            guard let stage, let key = record.operationKey else { return nil }
            return .operationFailed(stageID: stage, operationKey: key, summary: record.message)
        case .gateWaiting:
            return stage.map { .gateWaiting(stageID: $0) }
        case .gateApproved:
            guard let stage, let rest = text.after("approved by ") else { return nil }
            if case let (person, note)? = MessageText(rest).split(": ") { return .gateApproved(stageID: stage, by: person, note: note) }
            return .gateApproved(stageID: stage, by: rest, note: nil)
        case .gateDecision:
            return stage.map { .gateDecision(stageID: $0, text: record.message) }
        case .followUpResolved:
            guard let stage, case let (countText, rest)? = text.split(" "), let count = Int(countText),
                case let (category, tail)? = MessageText(rest).split(" follow-up(s) for "),
                let source = MessageText(tail).before(" dealt with")
            else { return nil }
            return .followUpsResolved(stageID: stage, count: count, category: category, sourceID: source)
        case .idMapExported:
            guard let stage, case let (count, path)? = text.split(" ID-map rows written to "), let rows = Int(count) else { return nil }
            return .idMapExported(stageID: stage, rows: rows, path: path)
        case .securityDefaultsDisabled:
            return stage.map { .securityDefaultsDisabled(stageID: $0) }
        case .tenantRecorded:
            guard let stage, let rest = text.after("target tenant "),
                case let (tenant, domain)? = MessageText(rest).split(" with initial domain ")
            else { return nil }
            return .tenantRecorded(stageID: stage, tenantID: tenant, initialDomain: domain)
        case .domainTXT:
            guard let stage, let rest = text.after("publish TXT ").flatMap({ MessageText($0).before(" can be verified") }),
                case let (published, domain)? = MessageText(rest).splitLast(" (TTL 3600) so that "),
                let value = MessageText(published).before(" at \(domain)")
            else { return nil }
            return .domainTXT(stageID: stage, domain: domain, record: value)
        case .domainHeld:
            guard let stage, let rest = text.before("); stopped polling"),
                case let (domain, code)? = MessageText(rest).splitLast(" is verified in another tenant (")
            else { return nil }
            return .domainHeld(stageID: stage, domain: domain, code: code)
        case .scenarioLoaded:
            return .scenarioLoaded(summary: record.message)
        case .scenarioSetup:
            guard let rest = text.after("in-place target: the fake tenant holds the snapshot's "),
                let count = MessageText(rest).leadingCount(" objects with their original ids")
            else { return nil }
            return .scenarioSetup(objects: count)
        case .scenarioInjected:
            return record.operationKey.map { .scenarioInjected(stageID: stage, eventKey: $0, text: record.message) }
        case .scenarioRecovered:
            guard let stage, let key = record.operationKey else { return nil }
            return .scenarioRecovered(stageID: stage, eventKey: key, text: record.message)
        case .throttlingLimits:
            guard let entries = record.detail?["limits"]?.arrayValue else { return nil }
            return .throttlingLimits(entries.compactMap(ThrottlingLimitFigure.init(detail:)))
        case .throttle(let cause):
            let detail = record.detail
            if let detail, detail.objectValue == nil { return nil }
            return .throttled(
                cause: cause, stageID: stage, note: record.message, retryAfterSeconds: detail?["retryAfter"]?.numberValue,
                endpoint: detail?["endpoint"]?.stringValue)
        case .unrecognized:
            return nil
        }
    }
}

/// Splits a stored message at the fixed words its kind writes between payload fields.
private struct MessageText {
    let text: String
    init(_ text: String) { self.text = text }

    /// The text after a fixed prefix.
    func after(_ prefix: String) -> String? { text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : nil }
    /// The text before a fixed suffix.
    func before(_ suffix: String) -> String? { text.hasSuffix(suffix) ? String(text.dropLast(suffix.count)) : nil }
    /// Around the first occurrence of a separator.
    func split(_ separator: String) -> (String, String)? {
        text.range(of: separator).map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) }
    }
    /// Around the last occurrence of a separator.
    func splitLast(_ separator: String) -> (String, String)? {
        text.range(of: separator, options: .backwards).map { (String(text[..<$0.lowerBound]), String(text[$0.upperBound...])) }
    }
    /// The count a message of the form `<count><suffix>` starts with.
    func leadingCount(_ suffix: String) -> Int? { before(suffix).flatMap { Int($0) } }
}

// MARK: - Payloads

/// One throttling limit's simulated waiting in a tabletop session and the least its work needs (the detail of a
/// ``RunEvent/throttlingLimits(_:)`` event: `limits[]` with `scope`, `label`, `waited`, `lowerBound`).
package struct ThrottlingLimitFigure: Sendable, Hashable {
    /// `x-ms-throttle-scope` of the limit, e.g. `Tenant_Application/Writes`.
    package var scope: String
    package var label: String
    /// Simulated seconds waited for the limit.
    package var waited: Double
    /// The arithmetic lower bound of the waiting its work needs, in seconds.
    package var lowerBound: Double

    package init(scope: String, label: String, waited: Double, lowerBound: Double) {
        self.scope = scope
        self.label = label
        self.waited = waited
        self.lowerBound = lowerBound
    }

    init?(detail: JSONValue) {
        guard let scope = detail["scope"]?.stringValue else { return nil }
        self.init(
            scope: scope, label: detail["label"]?.stringValue ?? scope, waited: detail["waited"]?.numberValue ?? 0,
            lowerBound: detail["lowerBound"]?.numberValue ?? 0)
    }

    var detail: JSONValue {
        ["scope": .string(scope), "label": .string(label), "waited": .number(waited), "lowerBound": .number(lowerBound)]
    }
}

/// The words of an ``RunEvent/operationFailed(stageID:operationKey:summary:)`` event: the operation's name, Graph's
/// error code and message, and the request-id to quote to Microsoft support.
package enum OperationFailure {
    package static func summary(displayName: String, code: String, message: String, requestID: String?) -> String {
        "\(displayName): \(code): \(message)" + (requestID.map { " [request-id \($0)]" } ?? "")
    }
}

extension EventRecord {
    /// The event, typed (see ``RunEvent/init(record:)``).
    package var event: RunEvent { RunEvent(record: self) }
}

extension CheckpointStore {
    /// Appends an event to the run's log (in the caller's transaction, if any), as its kind, message and detail.
    package func append(_ event: RunEvent, simulated: Double?) throws {
        try appendEvent(
            kind: event.kind.rawValue, stageID: event.stageID, operationKey: event.operationKey, message: event.message,
            detail: event.detail, simulated: simulated)
    }
}

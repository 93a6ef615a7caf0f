import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatSnapshot

/// Why a report could not be made, and what to do.
package enum ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database holds no run.
    case noRun(path: String)
    /// The checkpoint could not be read.
    case unreadable(path: String, reason: String)
    /// A template names a placeholder the report does not fill.
    case unknownPlaceholder(name: String, template: String)
    /// A template file could not be read.
    case templateUnreadable(path: String, reason: String)

    package var description: String {
        switch self {
        case .noRun(let path):
            "\(path) holds no run — start one with `lifeboat tabletop`, or pass the --state of the run to report on"
        case .unreadable(let path, let reason):
            "cannot read the checkpoint \(path): \(reason)"
        case .unknownPlaceholder(let name, let template):
            "\(template): unknown placeholder {{\(name)}} — use one of the placeholders listed in Docs/report-schema.md (Templates)"
        case .templateUnreadable(let path, let reason):
            "cannot read the template \(path): \(reason) — check --template-dir"
        }
    }
}

extension RunReport {
    /// Builds the report from a checkpoint database, reading only: the run, stages, operations, ID map, gates,
    /// follow-ups and the event log.
    package static func build(from store: CheckpointStore, generatedAt: Date = Date()) async throws(ReportError) -> RunReport {
        let input: CheckpointContents
        do {
            guard let run = try await store.runRecord() else { throw ReportError.noRun(path: store.path) }
            input = CheckpointContents(
                run: run.record, status: run.status, finishedAt: run.finishedAt, stages: try await store.stages(),
                operations: try await store.allOperations(), idMap: try await store.idMapEntries(), gates: try await store.gates(),
                followUps: try await store.followUps(), events: ReportEvent.read(try await store.events()),
                simulatedWaits: try await store.simulatedWaits(), stageDependencies: try await store.stageDependencies())
        } catch let error as ReportError {
            throw error
        } catch {
            throw ReportError.unreadable(path: store.path, reason: "\(error)")
        }
        return input.report(generatedAt: generatedAt)
    }
}

/// What the checkpoint holds, read once.
struct CheckpointContents {
    var run: RunRecord
    var status: ProgressStatus
    var finishedAt: String?
    var stages: [StageRecord]
    var operations: [OperationRecord]
    var idMap: [IDMapEntry]
    var gates: [GateRecord]
    var followUps: [FollowUpRecord]
    var events: [ReportEvent]
    var simulatedWaits: [String: [String: Double]] = [:]
    var stageDependencies: [String: [String]]?

    func report(generatedAt: Date) -> RunReport {
        let times = events.map(\.at)
        let firstEvent = times.compactMap { $0 }.first
        let start = times.first(where: { $0 != nil }).flatMap { $0 } ?? ReportTime.parse(run.startedAt) ?? generatedAt
        let startedAt = events.firstIndex { $0.kind == .runStarted }.flatMap { times[$0] } ?? firstEvent ?? start
        let lastEventAt = times.compactMap { $0 }.last ?? startedAt
        let finished = finishedAt.flatMap(ReportTime.parse)
        let wall = max(0, (finished ?? lastEventAt).timeIntervalSince(startedAt))

        let (sessions, interruptions) = sessionsAndInterruptions(times: times)
        let gateDecisions = gates.map { gate in
            let requested = gate.requestedAt.flatMap(ReportTime.parse), decided = gate.decidedAt.flatMap(ReportTime.parse)
            let wait = requested.map { max(0, (decided ?? lastEventAt).timeIntervalSince($0)) }
            return GateDecision(
                stageID: gate.stageID, instructions: gate.instructions, status: gate.status.rawValue, requestedAt: requested,
                decidedAt: decided, decidedBy: gate.decidedBy, note: gate.note, waitSeconds: wait)
        }
        let simulated = simulatedSpan(events.map(\.simulatedSeconds))
        let measured = simulated ?? wall
        let downtime = interruptions.map(\.downtimeSeconds).reduce(0, +)

        let objective: RunSummary.ObjectiveVerdict
        if let limit = run.objectiveSeconds {
            if measured > limit { objective = .missed } else { objective = status == .done ? .met : .pending }
        } else {
            objective = .none
        }
        let outcome: RunSummary.Outcome =
            switch status {
            case .done: .completed
            case .failed: .stoppedWithFailures
            case .waiting: .pausedAtGate
            case .pending, .running: .incomplete
            }
        let summary = RunSummary(
            id: run.id, mode: run.mode, status: status, outcome: outcome, runbookName: run.runbookName, startedAt: startedAt,
            finishedAt: finished, lastEventAt: lastEventAt, wallSeconds: wall, simulatedSeconds: simulated, downtimeSeconds: downtime,
            gateWaitSeconds: gateDecisions.compactMap(\.waitSeconds).reduce(0, +), objectiveSeconds: run.objectiveSeconds,
            measuredSeconds: measured, measuredIsSimulated: simulated != nil, objective: objective, interruptionCount: interruptions.count)

        let captured = ReportTime.parse(run.snapshotCapturedAt)
        let custody = ChainOfCustody(
            sourceTenantId: run.sourceTenantId, snapshotPath: run.snapshotPath, snapshotCapturedAt: run.snapshotCapturedAt,
            snapshotAgeSeconds: captured.map { startedAt.timeIntervalSince($0) }, manifestSHA256: run.snapshotManifestSHA256,
            signatureStatus: events.compactMap { if case .snapshotSignature(let statement) = $0.event { statement } else { nil } }.last
                ?? "not recorded by this run; integrity rests on the manifest's SHA-256 of every file, checked when the snapshot was loaded",
            runbookPath: run.runbookPath, runbookName: run.runbookName, runbookSHA256: run.runbookSHA256,
            runbookChanged: events.filter { $0.kind == .runbookChanged }.map(\.message),
            toolVersion: run.toolVersion, target: run.target, targetTenantId: run.targetTenantId, operatorName: run.operatorName,
            host: run.host,
            parameters: run.parameters, sessions: sessions, gates: gateDecisions)

        return RunReport(
            generatedAt: generatedAt, run: summary, custody: custody, counts: typeCounts(operations),
            timeline: Timeline(
                start: startedAt, end: max(finished ?? lastEventAt, lastEventAt), stages: stageSpans(times: times),
                interruptions: interruptions,
                gateWaits: gateDecisions.compactMap { gate in
                    gate.requestedAt.map {
                        Timeline.GateWait(stageID: gate.stageID, from: $0, until: gate.decidedAt, decidedBy: gate.decidedBy)
                    }
                },
                throttling: events.compactMap { event in
                    guard event.kind == .throttle, let at = event.at else { return nil }
                    return Timeline.ThrottleEvent(at: at, kind: event.name, stageID: event.stageID, message: event.message)
                }),
            failures: failureGroups(), resolvedErrors: resolvedErrors(times: times), skipped: skippedGroups(), followUps: followUpGroups(),
            conditionalAccessReportOnly: followUps.filter { $0.followUp.category == "ca-report-only" }.map(Self.item),
            hasConditionalAccessStage: stages.contains { $0.kind.lowercased().contains("conditionalaccess") },
            verification: verificationStages(), idMap: idMapSummary(),
            estimate: RTOEstimate.compute(
                stages: stages, events: events, waits: simulatedWaits, dependencies: stageDependencies,
                objective: run.objectiveSeconds, complete: status == .done),
            readiness: readinessSection())
    }

    /// The verdict as recorded (a resumed run keeps the one from its start): the last `readiness.assessed` message, and
    /// every finding (the readiness assessment's and the target preflight's).
    private func readinessSection() -> ReadinessSection? {
        var headline: String?
        var recorded: [RecordedFinding] = []
        for event in events {
            switch event.event {
            case .readinessAssessed: headline = event.message
            case .readinessFinding(let finding): recorded.append(finding)
            default: break
            }
        }
        guard let headline else { return nil }
        let findings = recorded.map { finding -> ReadinessSection.Finding in
            let objects: [String] = finding.objects.map { object in
                let name = [object.type, object.name].compactMap { $0 }.joined(separator: " ")
                guard let note = object.note else { return name }
                return "\(name): \(note)"
            }
            return ReadinessSection.Finding(
                severity: finding.severity, kind: finding.kind, summary: finding.summary, fix: finding.fix,
                objectCount: finding.objectCount, objects: objects)
        }
        return ReadinessSection(headline: headline, findings: findings)
    }

    // MARK: - Sessions and interruptions

    /// Splits the log at every `run.started` / `run.resumed`: one session per process, and an interruption wherever a
    /// process stopped without pausing at a gate.
    private func sessionsAndInterruptions(times: [Date?]) -> ([ChainOfCustody.Session], [Timeline.Interruption]) {
        var sessions: [ChainOfCustody.Session] = []
        var interruptions: [Timeline.Interruption] = []
        var lastOwn: (event: ReportEvent, at: Date)?
        var activeStage: String?
        var lastStage: String?
        for (event, at) in zip(events, times) {
            guard let at else { continue }
            if event.kind.startsSession {
                if event.kind == .runResumed, let previous = lastOwn, previous.event.kind != .runWaiting, previous.event.kind != .runDone {
                    interruptions.append(
                        Timeline.Interruption(
                            cause: previous.event.kind == .runFailed
                                ? .stoppedAfterFailures
                                : previous.event.kind == .runStopped ? .stoppedByOperator : .processEnded,
                            lastEventAt: previous.at, lastEventKind: previous.event.name, stageID: activeStage ?? lastStage, resumedAt: at,
                            resumedBy: event.message, downtimeSeconds: max(0, at.timeIntervalSince(previous.at))))
                }
                sessions.append(
                    ChainOfCustody.Session(
                        kind: event.kind == .runStarted ? "started" : "resumed", at: at, message: event.message, lastEventAt: at))
            }
            if event.kind.isFromAnotherProcess { continue }
            lastOwn = (event, at)
            if !sessions.isEmpty { sessions[sessions.count - 1].lastEventAt = at }
            if event.stageID != nil { lastStage = event.stageID }
            if event.kind == .stageRunning { activeStage = event.stageID }
            if event.kind.finishesStage { activeStage = nil }
        }
        return (sessions, interruptions)
    }

    private func stageSpans(times: [Date?]) -> [Timeline.StageSpan] {
        var counts: [String: Int] = [:]
        for op in operations { counts[op.stageID, default: 0] += 1 }
        return stages.map { stage in
            var started: Date?, finished: Date?, last: Date?, simStart: Double?, simEnd: Double?
            for (event, at) in zip(events, times) where event.stageID == stage.id {
                guard let at else { continue }
                last = at
                if event.kind == .stageRunning, started == nil { started = at; simStart = event.simulatedSeconds }
                if event.kind.finishesStage { finished = at; simEnd = event.simulatedSeconds }
            }
            if stage.status == .running || stage.status == .waiting || stage.status == .pending { finished = nil }
            return Timeline.StageSpan(
                id: stage.id, kind: stage.kind, title: stage.title, status: stage.status,
                startedAt: started ?? stage.startedAt.flatMap(ReportTime.parse),
                finishedAt: finished ?? stage.finishedAt.flatMap(ReportTime.parse),
                simulatedSeconds: simStart.flatMap { start in simEnd.map { $0 - start } }, operations: counts[stage.id, default: 0],
                lastEventAt: last)
        }
    }

    private func simulatedSpan(_ values: [Double?]) -> Double? {
        let present = values.compactMap { $0 }
        guard let first = present.first, let last = present.last, present.count > 1 else { return nil }
        return max(0, last - first)
    }

    // MARK: - Operations

    private var kindByStage: [String: String] { Dictionary(stages.map { ($0.id, $0.kind) }, uniquingKeysWith: { first, _ in first }) }

    /// An object type, or the stage kind for relationship writes that create no object.
    private func typeName(_ op: OperationRecord, kinds: [String: String]) -> String {
        op.planned.objectType?.rawValue ?? kinds[op.stageID] ?? op.stageID
    }

    func typeCounts(_ operations: [OperationRecord]) -> [TypeCounts] {
        let kinds = kindByStage
        let restoredKeys = Set(idMap.filter { $0.how == .restored }.map { "\($0.stageID)\u{0}\($0.oldID)" })
        var followUpsByKey: [String: Int] = [:]
        for item in followUps { if let key = item.operationKey { followUpsByKey[key, default: 0] += 1 } }
        var order: [String] = []
        var counts: [String: TypeCounts] = [:]
        for op in operations {
            let type = typeName(op, kinds: kinds)
            if counts[type] == nil { order.append(type); counts[type] = TypeCounts(type: type) }
            counts[type]!.followUps += followUpsByKey[op.planned.key, default: 0]
            switch op.state {
            case .failed: counts[type]!.failed += 1
            case .skipped: counts[type]!.skipped += 1
            case .pending, .sent: counts[type]!.unfinished += 1
            case .done:
                if restoredKeys.contains("\(op.stageID)\u{0}\(op.planned.sourceID)") { counts[type]!.restored += 1; continue }
                switch op.result {
                case .created: counts[type]!.created += 1
                case .adopted: counts[type]!.adopted += 1
                case .applied: counts[type]!.applied += 1
                case .unchanged: counts[type]!.unchanged += 1
                case .skipped: counts[type]!.skipped += 1
                case nil: counts[type]!.restored += 1  // a result this build does not know: recycle-bin restores record `restored`
                }
            }
        }
        return order.compactMap { counts[$0] }
    }

    private func failed(_ op: OperationRecord, kinds: [String: String]) -> FailedOperation {
        FailedOperation(
            key: op.planned.key, stageID: op.stageID, type: typeName(op, kinds: kinds), sourceID: op.planned.sourceID,
            displayName: op.planned.displayName, code: op.errorCode ?? "unknown", message: op.errorMessage ?? "",
            requestID: op.requestID, attempts: op.attempts)
    }

    private func failureGroups() -> [FailureGroup] {
        let kinds = kindByStage
        let failedOps = operations.filter { $0.state == .failed }.map { failed($0, kinds: kinds) }
        return Dictionary(grouping: failedOps, by: \.code).sorted { $0.key < $1.key }.map { code, ops in
            FailureGroup(code: code, action: FailureAdvice.action(for: code), operations: ops)
        }
    }

    private func resolvedErrors(times: [Date?]) -> [ResolvedError] {
        let stateByKey = Dictionary(operations.map { ($0.planned.key, $0.state) }, uniquingKeysWith: { first, _ in first })
        return zip(events, times).compactMap { event, at in
            guard event.kind == .operationFailed, let key = event.operationKey, let at,
                let state = stateByKey[key], state == .done || state == .skipped
            else { return nil }
            return ResolvedError(at: at, stageID: event.stageID, operationKey: key, message: event.message)
        }
    }

    private func skippedGroups() -> [SkippedGroup] {
        let kinds = kindByStage
        var byKey: [String: FollowUp] = [:]
        for item in followUps { if let key = item.operationKey, byKey[key] == nil { byKey[key] = item.followUp } }
        var order: [String] = []
        var groups: [String: SkippedGroup] = [:]
        for op in operations where op.state == .skipped {
            let followUp = byKey[op.planned.key]
            let category = followUp?.category ?? "skipped"
            if groups[category] == nil {
                order.append(category)
                groups[category] = SkippedGroup(
                    category: category, action: followUp?.action ?? "no follow-up was recorded; check the stage's options",
                    count: 0, operations: [])
            }
            groups[category]!.count += 1
            guard groups[category]!.operations.count < RunReport.shownPerGroup else { continue }
            groups[category]!.operations.append(
                SkippedOperation(
                    key: op.planned.key, stageID: op.stageID, type: typeName(op, kinds: kinds), sourceID: op.planned.sourceID,
                    displayName: op.planned.displayName, reason: followUp?.message ?? "skipped"))
        }
        return order.compactMap { groups[$0] }
    }

    static func item(_ record: FollowUpRecord) -> FollowUpItem {
        FollowUpItem(
            stageID: record.stageID, operationKey: record.operationKey, sourceID: record.sourceID, displayName: record.displayName,
            message: record.followUp.message, action: record.followUp.action)
    }

    private func followUpGroups() -> [FollowUpGroup] {
        var order: [String] = []
        var groups: [String: FollowUpGroup] = [:]
        for record in followUps {
            let category = record.followUp.category
            if groups[category] == nil {
                order.append(category)
                groups[category] = FollowUpGroup(category: category, count: 0, items: [])
            }
            groups[category]!.count += 1
            if groups[category]!.items.count < RunReport.shownPerGroup { groups[category]!.items.append(Self.item(record)) }
        }
        return order.compactMap { groups[$0] }
    }

    private func verificationStages() -> [VerificationStage] {
        let kinds = kindByStage
        return stages.filter { $0.kind == "verify" || $0.kind.hasPrefix("verify.") }.map { stage in
            let ops = operations.filter { $0.stageID == stage.id }
            // A difference is a skipped check whose follow-up says what differs.
            let found = Dictionary(
                followUps.filter { $0.stageID == stage.id }.compactMap { record in record.operationKey.map { ($0, record.followUp.message) }
                },
                uniquingKeysWith: { first, _ in first })
            return VerificationStage(
                stageID: stage.id, title: stage.title, status: stage.status, counts: typeCounts(ops),
                differences: ops.filter { $0.state == .failed || $0.state == .skipped }.map { op in
                    var row = failed(op, kinds: kinds)
                    if op.state == .skipped {
                        row.code = "Difference"
                        row.message = found[op.planned.key] ?? row.message
                    }
                    return row
                })
        }
    }

    private func idMapSummary() -> IDMapSummary {
        var order: [String] = []
        var rows: [String: IDMapSummary.Row] = [:]
        for entry in idMap {
            let type = entry.objectType.rawValue
            if rows[type] == nil { order.append(type); rows[type] = IDMapSummary.Row(type: type, created: 0, adopted: 0, restored: 0) }
            switch entry.how {
            case .created: rows[type]!.created += 1
            case .adopted: rows[type]!.adopted += 1
            case .restored: rows[type]!.restored += 1
            }
        }
        return IDMapSummary(
            total: idMap.count, byType: order.compactMap { rows[$0] },
            withAppIDs: idMap.filter { $0.oldAppID != nil || $0.newAppID != nil }.count)
    }
}

/// What to do about a Graph error code, for the failures section.
package enum FailureAdvice {
    /// The action for operations that failed with `code`.
    package static func action(for code: String) -> String {
        switch code {
        case "Authorization_RequestDenied", "Forbidden", "AccessDenied":
            "grant the Lifeboat app the missing Graph permission (Directory.ReadWrite.All, with admin consent), then `lifeboat resume`"
        case "InvalidAuthenticationToken", "Unauthorized":
            "renew the app's credentials (the token was refused), then `lifeboat resume`"
        case "Request_BadRequest", "BadRequest", "Request_InvalidRequest":
            "Graph refused the object as sent: read the message, correct the snapshot object or the runbook option it names, then `lifeboat resume`"
        case "Request_ResourceNotFound", "ResourceNotFound", "NotFound":
            "a referenced object is missing in the target: check the ID map and the earlier stages, then `lifeboat resume`"
        case "Request_MultipleObjectsWithSameKeyValue", "ObjectConflict", "Conflict":
            "another object already holds this key in the target: remove or rename it (or let reconciliation adopt it), then `lifeboat resume`"
        case "TooManyRequests", "Request_ThrottledTemporarily", "ServiceUnavailable", "Timeout":
            "Graph was throttling or unavailable beyond the retry budget: wait, lower --concurrency, then `lifeboat resume`"
        case "ReconciliationFailed":
            "the object could not be looked up after an unknown outcome: check the target by its natural key, then `lifeboat resume`"
        default:
            "read the message, fix the cause, then `lifeboat resume` retries the operation"
        }
    }
}

extension RTOEstimate {
    /// The estimate alone, read without the operations, ID map and follow-ups a full report loads (seconds and
    /// hundreds of megabytes for a tenant of 50,000 users).
    package static func read(from store: CheckpointStore) async throws -> RTOEstimate? {
        guard let run = try await store.runRecord() else { return nil }
        let events = ReportEvent.read(try await store.events())
        var estimate = compute(
            stages: try await store.stages(), events: events, waits: try await store.simulatedWaits(),
            dependencies: try await store.stageDependencies(), objective: run.record.objectiveSeconds, complete: run.status == .done)
        estimate?.limits = limits(from: events)
        return estimate
    }
}

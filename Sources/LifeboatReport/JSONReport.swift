import Foundation
import LifeboatJSON

/// The report as JSON for SIEM and ticketing import: `{"schema": "lifeboat.report", "schemaVersion": 1, …}` with sorted
/// keys. Every field is documented in `Docs/report-schema.md`; a field's meaning never changes within a schema version.
package enum JSONReport {
    /// The schema's name.
    package static let schema = "lifeboat.report"
    /// Bumped when a field is removed or changes meaning; adding a field keeps the version.
    package static let schemaVersion = 2

    /// The report document.
    package static func document(_ report: RunReport) -> JSONValue {
        let run = report.run, custody = report.custody, timeline = report.timeline
        return [
            "schema": .string(schema),
            "schemaVersion": .number(Double(schemaVersion)),
            "generatedAt": time(report.generatedAt),
            "run": [
                "id": .string(run.id), "mode": .string(run.mode.rawValue), "status": .string(run.status.rawValue),
                "outcome": .string(run.outcome.rawValue), "runbook": .string(run.runbookName),
                "startedAt": time(run.startedAt), "finishedAt": run.finishedAt.map(time) ?? .null, "lastEventAt": time(run.lastEventAt),
                "wallSeconds": seconds(run.wallSeconds), "simulatedSeconds": run.simulatedSeconds.map(seconds) ?? .null,
                "downtimeSeconds": seconds(run.downtimeSeconds), "gateWaitSeconds": seconds(run.gateWaitSeconds),
                "interruptions": .number(Double(run.interruptionCount)),
                "objective": [
                    "seconds": run.objectiveSeconds.map(seconds) ?? .null, "measuredSeconds": seconds(run.measuredSeconds),
                    "measured": .string(run.measuredIsSimulated ? "simulated" : "wall"), "verdict": .string(run.objective.rawValue),
                ],
            ],
            "custody": [
                "snapshot": [
                    "sourceTenantId": .string(custody.sourceTenantId), "path": .string(custody.snapshotPath),
                    "capturedAt": .string(custody.snapshotCapturedAt),
                    "ageAtRestoreSeconds": custody.snapshotAgeSeconds.map(seconds) ?? .null,
                    "manifestSha256": .string(custody.manifestSHA256), "signature": .string(custody.signatureStatus),
                ],
                "runbook": [
                    "name": .string(custody.runbookName), "path": .string(custody.runbookPath), "sha256": .string(custody.runbookSHA256),
                    "changedDuringRun": .array(custody.runbookChanged.map(JSONValue.string)),
                    "parameters": .object(custody.parameters.mapValues(JSONValue.string)),
                ],
                "toolVersion": .string(custody.toolVersion),
                "target": ["description": .string(custody.target), "tenantId": custody.targetTenantId.map(JSONValue.string) ?? .null],
                "operator": ["name": .string(custody.operatorName), "host": .string(custody.host)],
                "sessions": .array(
                    custody.sessions.map { session in
                        [
                            "kind": .string(session.kind), "at": time(session.at), "message": .string(session.message),
                            "lastEventAt": time(session.lastEventAt),
                        ]
                    }),
                "gates": .array(
                    custody.gates.map { gate in
                        [
                            "stage": .string(gate.stageID), "instructions": .string(gate.instructions), "status": .string(gate.status),
                            "requestedAt": gate.requestedAt.map(time) ?? .null, "decidedAt": gate.decidedAt.map(time) ?? .null,
                            "decidedBy": string(gate.decidedBy), "note": string(gate.note),
                            "waitSeconds": gate.waitSeconds.map(seconds) ?? .null,
                        ]
                    }),
            ],
            "counts": .array(report.counts.map(counts)),
            "timeline": [
                "start": time(timeline.start), "end": time(timeline.end),
                "stages": .array(
                    timeline.stages.map { stage in
                        [
                            "id": .string(stage.id), "kind": .string(stage.kind), "title": .string(stage.title),
                            "status": .string(stage.status.rawValue),
                            "startedAt": stage.startedAt.map(time) ?? .null, "finishedAt": stage.finishedAt.map(time) ?? .null,
                            "durationSeconds": stage.startedAt.flatMap { start in
                                stage.finishedAt.map { seconds($0.timeIntervalSince(start)) }
                            } ?? .null,
                            "simulatedSeconds": stage.simulatedSeconds.map(seconds) ?? .null,
                            "operations": .number(Double(stage.operations)),
                        ]
                    }),
                "interruptions": .array(
                    timeline.interruptions.map { item in
                        [
                            "cause": .string(item.cause.rawValue), "lastEventAt": time(item.lastEventAt),
                            "lastEventKind": .string(item.lastEventKind),
                            "stage": string(item.stageID), "resumedAt": time(item.resumedAt), "resumedBy": .string(item.resumedBy),
                            "downtimeSeconds": seconds(item.downtimeSeconds),
                        ]
                    }),
                "gateWaits": .array(
                    timeline.gateWaits.map { wait in
                        [
                            "stage": .string(wait.stageID), "from": time(wait.from), "until": wait.until.map(time) ?? .null,
                            "decidedBy": string(wait.decidedBy),
                        ]
                    }),
                "throttling": .array(
                    timeline.throttling.map { event in
                        [
                            "at": time(event.at), "kind": .string(event.kind), "stage": string(event.stageID),
                            "message": .string(event.message),
                        ]
                    }),
            ],
            "failures": .array(
                report.failures.map { group in
                    ["code": .string(group.code), "action": .string(group.action), "operations": .array(group.operations.map(failed))]
                }),
            "resolvedErrors": .array(
                report.resolvedErrors.map { error in
                    [
                        "at": time(error.at), "stage": string(error.stageID), "operationKey": .string(error.operationKey),
                        "message": .string(error.message),
                    ]
                }),
            "skipped": .array(
                report.skipped.map { group in
                    [
                        "category": .string(group.category), "action": .string(group.action), "count": .number(Double(group.count)),
                        "operations": .array(
                            group.operations.map { op in
                                [
                                    "key": .string(op.key), "stage": .string(op.stageID), "type": .string(op.type),
                                    "sourceId": .string(op.sourceID),
                                    "displayName": .string(op.displayName), "reason": .string(op.reason),
                                ]
                            }),
                    ]
                }),
            "followUps": .array(
                report.followUps.map { group in
                    [
                        "category": .string(group.category), "count": .number(Double(group.count)),
                        "items": .array(group.items.map(followUp)),
                    ]
                }),
            "conditionalAccess": [
                "stageInRunbook": .bool(report.hasConditionalAccessStage),
                "reportOnly": .array(report.conditionalAccessReportOnly.map(followUp)),
            ],
            "verification": [
                "present": .bool(!report.verification.isEmpty),
                "stages": .array(
                    report.verification.map { stage in
                        [
                            "id": .string(stage.stageID), "title": .string(stage.title), "status": .string(stage.status.rawValue),
                            "counts": .array(stage.counts.map(counts)), "differences": .array(stage.differences.map(failed)),
                        ]
                    }),
            ],
            "estimate": report.estimate.map(estimate) ?? .null,
            "readiness": report.readiness.map { readiness in
                [
                    "headline": .string(readiness.headline),
                    "findings": .array(
                        readiness.findings.map { finding in
                            [
                                "severity": .string(finding.severity), "kind": .string(finding.kind), "summary": .string(finding.summary),
                                "fix": .string(finding.fix), "objectCount": .number(Double(finding.objectCount)),
                                "objects": .array(finding.objects.map(JSONValue.string)),
                            ]
                        }),
                ]
            } ?? .null,
            "idMap": [
                "total": .number(Double(report.idMap.total)), "withAppIds": .number(Double(report.idMap.withAppIDs)),
                "byType": .array(
                    report.idMap.byType.map { row in
                        [
                            "type": .string(row.type), "created": .number(Double(row.created)), "adopted": .number(Double(row.adopted)),
                            "restored": .number(Double(row.restored)),
                        ]
                    }),
                "export": "lifeboat idmap --state STATE --format csv|json",
            ],
        ]
    }

    /// The document as indented JSON with sorted keys and a final newline.
    package static func render(_ report: RunReport) throws -> Data {
        try JSONCoding.encodePretty(document(report)) + Data("\n".utf8)
    }

    private static func estimate(_ estimate: RTOEstimate) -> JSONValue {
        [
            "totalSeconds": seconds(estimate.totalSeconds), "stageSumSeconds": seconds(estimate.stageSumSeconds),
            "criticalPath": estimate.criticalPath.map { .array($0.map(JSONValue.string)) } ?? .null,
            "criticalPathSeconds": estimate.criticalPathSeconds.map(seconds) ?? .null,
            "waits": .object(estimate.waits.mapValues(seconds)), "unattributedSeconds": seconds(estimate.unattributedSeconds),
            "throttlingShare": .number((estimate.throttlingShare * 1000).rounded() / 1000),
            "objectiveSeconds": estimate.objectiveSeconds.map(seconds) ?? .null, "verdict": .string(estimate.verdict.rawValue),
            "complete": .bool(estimate.complete),
            "stages": .array(
                estimate.stages.map { stage in
                    [
                        "id": .string(stage.id), "seconds": seconds(stage.seconds), "waits": .object(stage.waits.mapValues(seconds)),
                        "after": .array(stage.after.map(JSONValue.string)), "onCriticalPath": .bool(stage.onCriticalPath),
                        "finished": .bool(stage.finished),
                    ]
                }),
        ]
    }

    private static func time(_ date: Date) -> JSONValue { .string(ReportTime.iso(date)) }
    private static func seconds(_ value: Double) -> JSONValue { .number((value * 1000).rounded() / 1000) }
    private static func string(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    private static func counts(_ row: TypeCounts) -> JSONValue {
        [
            "type": .string(row.type), "restored": .number(Double(row.restored)), "created": .number(Double(row.created)),
            "applied": .number(Double(row.applied)), "adopted": .number(Double(row.adopted)), "unchanged": .number(Double(row.unchanged)),
            "skipped": .number(Double(row.skipped)), "failed": .number(Double(row.failed)), "unfinished": .number(Double(row.unfinished)),
            "followUps": .number(Double(row.followUps)),
        ]
    }

    private static func failed(_ op: FailedOperation) -> JSONValue {
        [
            "key": .string(op.key), "stage": .string(op.stageID), "type": .string(op.type), "sourceId": .string(op.sourceID),
            "displayName": .string(op.displayName), "code": .string(op.code), "message": .string(op.message),
            "requestId": string(op.requestID), "attempts": .number(Double(op.attempts)),
        ]
    }

    private static func followUp(_ item: FollowUpItem) -> JSONValue {
        [
            "stage": .string(item.stageID), "operationKey": string(item.operationKey), "sourceId": string(item.sourceID),
            "displayName": string(item.displayName), "message": .string(item.message), "action": .string(item.action),
        ]
    }
}

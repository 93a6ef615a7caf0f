import Foundation

/// The report as Markdown (GitHub-flavoured tables), for tickets and wikis. Every value is escaped with
/// ``ReportEscaping/markdown(_:)``: no pipe, newline, HTML tag, link or emphasis from a display name survives as syntax.
public enum MarkdownReport {
    /// Renders the report with the templates' Markdown header.
    public static func render(_ report: RunReport, templates: ReportTemplates) throws(ReportError) -> String {
        let e = ReportEscaping.markdown
        let header = try templates.markdownHeader.fill([
            "title": e(ReportWording.title(report)), "subtitle": e(ReportWording.subtitle(report)),
            "generatedAt": e(ReportTime.human(report.generatedAt)), "toolVersion": e(report.custody.toolVersion),
            "schemaVersion": String(JSONReport.schemaVersion),
        ])
        var out = header.hasSuffix("\n") ? header : header + "\n"
        func line(_ text: String = "") { out += text + "\n" }
        func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) {
            line("| " + headers.map(e).joined(separator: " | ") + " |")
            line("|" + headers.indices.map { numeric.contains($0) ? "---:" : "---" }.joined(separator: "|") + "|")
            for row in rows { line("| " + row.joined(separator: " | ") + " |") }
            line()
        }
        let run = report.run, custody = report.custody, timeline = report.timeline
        let time = { (date: Date?) in date.map { e(ReportTime.human($0)) } ?? "—" }

        line()
        line("## Summary")
        line()
        var summary: [[String]] = [
            ["Outcome", "**\(e(ReportWording.outcome(run.outcome)))** (status \(e(run.status.rawValue)))"],
            ["Started", time(run.startedAt)],
            ["Finished", run.finishedAt.map { e(ReportTime.human($0)) } ?? "not finished (last event \(time(run.lastEventAt)))"],
            ["Wall time", e(ReportTime.duration(run.wallSeconds))],
        ]
        if let simulated = run.simulatedSeconds { summary.append(["Simulated time", e(ReportTime.duration(simulated))]) }
        summary += [
            ["Interruptions", e(ReportWording.interruptions(run))],
            ["Waiting at gates", e(ReportTime.duration(run.gateWaitSeconds))],
            ["Recovery-time objective", e(ReportWording.objective(run))],
        ]
        table(["", ""], summary)
        line("### Operations by type")
        line()
        if report.counts.isEmpty {
            line("No operations were planned.")
            line()
        } else {
            table(ReportWording.countColumns, report.counts.map { [e($0.type)] + ReportWording.countCells($0) }, numeric: Set(1...9))
        }

        line("## RTO estimate")
        line()
        if let estimate = report.estimate {
            line(e(EstimateWording.headline(estimate)))
            line()
            line(e(EstimateWording.criticalPath(estimate)))
            line()
            table(EstimateWording.breakdownColumns, EstimateWording.breakdown(estimate).map { $0.map(e) }, numeric: [1, 2])
            table(EstimateWording.stageColumns, estimate.stages.map { EstimateWording.stageRow($0).map(e) }, numeric: [1, 2, 3, 4, 5, 6])
        } else {
            line(e(EstimateWording.none))
            line()
        }

        line("## Readiness")
        line()
        if let readiness = report.readiness {
            line(e(readiness.headline))
            line()
            if readiness.findings.isEmpty {
                line(e(ReadinessWording.clean))
                line()
            } else {
                table(ReadinessWording.columns, readiness.findings.map { ReadinessWording.row($0).map(e) })
            }
        } else {
            line(e(ReadinessWording.none))
            line()
        }

        line("## Chain of custody")
        line()
        var custodyRows: [[String]] = [
            ["Source tenant", e(custody.sourceTenantId)],
            ["Snapshot", e(custody.snapshotPath)],
            ["Captured", e(custody.snapshotCapturedAt) + (custody.snapshotAgeSeconds.map { " (\(e(ReportTime.duration($0))) before the restore started)" } ?? "")],
            ["Manifest SHA-256", e(custody.manifestSHA256)],
            ["Signature", e(custody.signatureStatus)],
            ["Runbook", "\(e(custody.runbookName)) (\(e(custody.runbookPath)))"],
            ["Runbook SHA-256", e(custody.runbookSHA256)],
        ]
        for change in custody.runbookChanged { custodyRows.append(["Runbook changed", e(change)]) }
        if !custody.parameters.isEmpty {
            custodyRows.append(["Parameters", custody.parameters.sorted { $0.key < $1.key }.map { "\(e($0.key))=\(e($0.value))" }.joined(separator: ", ")])
        }
        custodyRows += [
            ["Tool", "Lifeboat \(e(custody.toolVersion))"],
            ["Target", e(custody.target)],
            ["Target tenant", e(custody.targetTenantId ?? "—")],
            ["Started by", "\(e(custody.operatorName)) on \(e(custody.host))"],
        ]
        table(["", ""], custodyRows)
        line("### Gates")
        line()
        if custody.gates.isEmpty {
            line("No gate was reached.")
            line()
        } else {
            table(["Gate", "Status", "Requested", "Decided by", "Decided at", "Waited", "Note"], custody.gates.map { gate in
                [e(gate.stageID), e(gate.status), time(gate.requestedAt), e(gate.decidedBy ?? "—"), time(gate.decidedAt),
                 gate.waitSeconds.map { e(ReportTime.duration($0)) } ?? "—", e(gate.note ?? "")]
            })
        }
        line("### Who ran the tool")
        line()
        table(["#", "Process", "At", "Event", "Last event"], custody.sessions.enumerated().map { index, session in
            [String(index + 1), e(session.kind), time(session.at), e(session.message), time(session.lastEventAt)]
        })

        line("## Timeline")
        line()
        line("From \(time(timeline.start)) to \(time(timeline.end)). The HTML report draws it as a chart.")
        line()
        table(["#", "Stage", "Kind", "Status", "Started", "Finished", "Took", "Operations"], timeline.stages.enumerated().map { index, stage in
            [String(index + 1), "\(e(stage.id)): \(e(stage.title))", e(stage.kind), e(stage.status.rawValue), time(stage.startedAt), time(stage.finishedAt),
             e(ReportWording.duration(from: stage.startedAt, to: stage.finishedAt))
                + (stage.simulatedSeconds.map { " (\(e(ReportTime.duration($0))) simulated)" } ?? ""),
             String(stage.operations)]
        }, numeric: [0, 7])
        line("### Interruptions and resumes")
        line()
        if timeline.interruptions.isEmpty {
            line(e(ReportWording.noInterruptions))
            line()
        } else {
            table(["Stopped (last event)", "Cause", "Stage", "Resumed", "Resumed by", "Downtime"], timeline.interruptions.map { item in
                ["\(time(item.lastEventAt)) (\(e(item.lastEventKind)))", e(ReportWording.cause(item.cause)), e(item.stageID ?? "—"),
                 time(item.resumedAt), e(item.resumedBy), e(ReportTime.duration(item.downtimeSeconds))]
            })
        }
        line("### Throttling")
        line()
        if timeline.throttling.isEmpty {
            line(e(ReportWording.noThrottling))
            line()
        } else {
            table(["At", "Event", "Stage", "Message"], timeline.throttling.map { [time($0.at), e($0.kind), e($0.stageID ?? "—"), e($0.message)] })
        }

        line("## Failures and follow-ups")
        line()
        line("### Failed operations")
        line()
        if report.failures.isEmpty { line(e(ReportWording.noFailures)); line() }
        for group in report.failures {
            line("#### \(e(group.code)) (\(group.operations.count))")
            line()
            line("Action: \(e(group.action))")
            line()
            table(["Operation", "Stage", "Type", "Display name", "Source id", "Message", "Request-id", "Attempts"], group.operations.map { op in
                [e(op.key), e(op.stageID), e(op.type), e(op.displayName), e(op.sourceID), e(op.message), e(op.requestID ?? "—"), String(op.attempts)]
            }, numeric: [7])
        }
        line("### Errors resolved by a later attempt")
        line()
        if report.resolvedErrors.isEmpty {
            line(e(ReportWording.noResolvedErrors))
            line()
        } else {
            table(["At", "Stage", "Operation", "Error"], report.resolvedErrors.map { [time($0.at), e($0.stageID ?? "—"), e($0.operationKey), e($0.message)] })
        }
        line("### Skipped operations")
        line()
        if report.skipped.isEmpty { line(e(ReportWording.noSkipped)); line() }
        for group in report.skipped {
            line("#### \(e(group.category)) (\(group.count))")
            line()
            line("Action: \(e(group.action))")
            line()
            table(["Operation", "Stage", "Type", "Display name", "Source id", "Reason"], group.operations.map { op in
                [e(op.key), e(op.stageID), e(op.type), e(op.displayName), e(op.sourceID), e(op.reason)]
            })
            if let more = ReportWording.more(group.count - group.operations.count, of: group.count) { line(more); line() }
        }
        line("### What could not be restored (follow-ups)")
        line()
        if report.followUps.isEmpty { line(e(ReportWording.noFollowUps)); line() }
        for group in report.followUps {
            line("#### \(e(group.category)) (\(group.count))")
            line()
            table(["Stage", "Object", "What", "Action"], group.items.map { item in
                [e(item.stageID), e(item.displayName ?? "—"), e(item.message), e(item.action)]
            })
            if let more = ReportWording.more(group.count - group.items.count, of: group.count) { line(more); line() }
        }
        line("### Conditional access policies left in report-only")
        line()
        if let none = ReportWording.conditionalAccess(report) {
            line(e(none))
            line()
        } else {
            table(["Policy", "What", "Action"], report.conditionalAccessReportOnly.map { [e($0.displayName ?? "—"), e($0.message), e($0.action)] })
        }

        line("## Verification")
        line()
        if report.verification.isEmpty { line(e(ReportWording.noVerify)); line() }
        for stage in report.verification {
            line("### \(e(stage.stageID)): \(e(stage.title)) (\(e(stage.status.rawValue)))")
            line()
            table(ReportWording.countColumns, stage.counts.map { [e($0.type)] + ReportWording.countCells($0) }, numeric: Set(1...9))
            if stage.differences.isEmpty {
                line("No differences.")
                line()
            } else {
                table(["Check", "Type", "Display name", "Source id", "Difference"], stage.differences.map { op in
                    [e(op.key), e(op.type), e(op.displayName), e(op.sourceID), e("\(op.code): \(op.message)")]
                })
            }
        }

        line("## ID map")
        line()
        line("\(report.idMap.total) objects have a new id (\(report.idMap.withAppIDs) with old and new appIds).")
        line()
        if !report.idMap.byType.isEmpty {
            table(["Type", "Created", "Adopted", "Restored"], report.idMap.byType.map {
                [e($0.type), String($0.created), String($0.adopted), String($0.restored)]
            }, numeric: [1, 2, 3])
        }
        line("\(e(ReportWording.idMapExport)) `lifeboat idmap --state STATE --format csv` (or `--format json`).")
        return out
    }
}

import Foundation

/// The report as one self-contained HTML file: inline CSS and SVG, no JavaScript, no external asset, print styles
/// for A4 and Letter. Every value from the checkpoint or the snapshot goes through ``ReportEscaping/html(_:)``.
public enum HTMLReport {
    /// Renders the report into the templates' page.
    public static func render(_ report: RunReport, templates: ReportTemplates) throws(ReportError) -> String {
        let h = ReportEscaping.html
        let css = try templates.css.fill([:])
        return try templates.html.fill([
            "title": h(ReportWording.title(report)), "subtitle": h(ReportWording.subtitle(report)),
            "generatedAt": h(ReportTime.human(report.generatedAt)), "toolVersion": h(report.custody.toolVersion),
            "schemaVersion": String(JSONReport.schemaVersion), "css": css.replacingOccurrences(of: "</", with: "<\\/"), "body": body(report),
        ])
    }

    static func body(_ report: RunReport) -> String {
        let h = ReportEscaping.html
        var out = ""
        func line(_ text: String) { out += text + "\n" }
        func time(_ date: Date?) -> String { date.map { h(ReportTime.human($0)) } ?? "—" }
        func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = [], kv: Bool = false) {
            line(kv ? "<table class=\"kv\">" : "<table>")
            if !kv {
                line("<thead><tr>" + headers.enumerated().map { "<th\(numeric.contains($0.offset) ? " class=\"num\"" : "")>\(h($0.element))</th>" }.joined() + "</tr></thead>")
            }
            line("<tbody>")
            for row in rows {
                line("<tr>" + row.enumerated().map { index, cell in
                    kv && index == 0 ? "<th>\(cell)</th>" : "<td\(numeric.contains(index) ? " class=\"num\"" : "")>\(cell)</td>"
                }.joined() + "</tr>")
            }
            line("</tbody></table>")
        }
        func id(_ text: String) -> String { "<span class=\"id\">\(h(text))</span>" }
        func none(_ text: String) { line("<p class=\"none\">\(h(text))</p>") }
        let run = report.run, custody = report.custody, timeline = report.timeline

        // Summary
        line("<section id=\"summary\"><h2>Summary</h2>")
        let badge = switch run.outcome {
        case .completed: "ok"
        case .stoppedWithFailures: "bad"
        case .pausedAtGate, .incomplete: "warn"
        }
        let rto = switch run.objective {
        case .met: "ok"
        case .missed: "bad"
        case .pending, .none: "info"
        }
        line("<div class=\"cards\">")
        line("<div class=\"card\"><div class=\"label\">Outcome</div><div class=\"value\"><span class=\"badge \(badge)\">\(h(ReportWording.outcome(run.outcome)))</span></div></div>")
        line("<div class=\"card\"><div class=\"label\">Wall time</div><div class=\"value\">\(h(ReportTime.duration(run.wallSeconds)))</div></div>")
        line("<div class=\"card\"><div class=\"label\">Interruptions</div><div class=\"value\">\(h(ReportWording.interruptions(run)))</div></div>")
        line("<div class=\"card\"><div class=\"label\">Recovery-time objective</div><div class=\"value\"><span class=\"badge \(rto)\">\(h(run.objective.rawValue))</span></div></div>")
        line("</div>")
        var summary: [[String]] = [
            ["Outcome", "\(h(ReportWording.outcome(run.outcome))) (status \(h(run.status.rawValue)))"],
            ["Started", time(run.startedAt)],
            ["Finished", run.finishedAt.map { h(ReportTime.human($0)) } ?? "not finished (last event \(time(run.lastEventAt)))"],
            ["Wall time", h(ReportTime.duration(run.wallSeconds))],
        ]
        if let simulated = run.simulatedSeconds { summary.append(["Simulated time", h(ReportTime.duration(simulated))]) }
        summary += [
            ["Interruptions", h(ReportWording.interruptions(run))],
            ["Waiting at gates", h(ReportTime.duration(run.gateWaitSeconds))],
            ["Recovery-time objective", h(ReportWording.objective(run))],
        ]
        table([], summary, kv: true)
        line("<h3>Operations by type</h3>")
        if report.counts.isEmpty {
            none("No operations were planned.")
        } else {
            table(ReportWording.countColumns, report.counts.map { [h($0.type)] + ReportWording.countCells($0) }, numeric: Set(1...9))
        }
        line("</section>")

        // RTO estimate
        line("<section id=\"estimate\"><h2>RTO estimate</h2>")
        if let estimate = report.estimate {
            line("<p>\(h(EstimateWording.headline(estimate)))</p>")
            line("<p>\(h(EstimateWording.criticalPath(estimate)))</p>")
            table(EstimateWording.breakdownColumns, EstimateWording.breakdown(estimate).map { $0.map(h) }, numeric: [1, 2])
            table(EstimateWording.stageColumns, estimate.stages.map { EstimateWording.stageRow($0).map(h) }, numeric: [1, 2, 3, 4, 5, 6])
        } else {
            none(EstimateWording.none)
        }
        line("</section>")

        // Readiness
        line("<section id=\"readiness\"><h2>Readiness</h2>")
        if let readiness = report.readiness {
            line("<p>\(h(readiness.headline))</p>")
            if readiness.findings.isEmpty {
                none(ReadinessWording.clean)
            } else {
                table(ReadinessWording.columns, readiness.findings.map { ReadinessWording.row($0).map(h) })
            }
        } else {
            none(ReadinessWording.none)
        }
        line("</section>")

        // Chain of custody
        line("<section id=\"custody\"><h2>Chain of custody</h2>")
        var custodyRows: [[String]] = [
            ["Source tenant", "<span class=\"mono\">\(h(custody.sourceTenantId))</span>"],
            ["Snapshot", h(custody.snapshotPath)],
            ["Captured", h(custody.snapshotCapturedAt) + (custody.snapshotAgeSeconds.map { " (\(h(ReportTime.duration($0))) before the restore started)" } ?? "")],
            ["Manifest SHA-256", "<span class=\"mono\">\(h(custody.manifestSHA256))</span>"],
            ["Signature", h(custody.signatureStatus)],
            ["Runbook", "\(h(custody.runbookName)) (\(h(custody.runbookPath)))"],
            ["Runbook SHA-256", "<span class=\"mono\">\(h(custody.runbookSHA256))</span>"],
        ]
        for change in custody.runbookChanged { custodyRows.append(["Runbook changed", h(change)]) }
        if !custody.parameters.isEmpty {
            custodyRows.append(["Parameters", custody.parameters.sorted { $0.key < $1.key }.map { "\(h($0.key))=\(h($0.value))" }.joined(separator: ", ")])
        }
        custodyRows += [
            ["Tool", "Lifeboat \(h(custody.toolVersion))"],
            ["Target", h(custody.target)],
            ["Target tenant", "<span class=\"mono\">\(h(custody.targetTenantId ?? "—"))</span>"],
            ["Started by", "\(h(custody.operatorName)) on \(h(custody.host))"],
        ]
        table([], custodyRows, kv: true)
        line("<h3>Gates</h3>")
        if custody.gates.isEmpty {
            none("No gate was reached.")
        } else {
            table(["Gate", "Status", "Requested", "Decided by", "Decided at", "Waited", "Note"], custody.gates.map { gate in
                [h(gate.stageID), h(gate.status), time(gate.requestedAt), h(gate.decidedBy ?? "—"), time(gate.decidedAt),
                 gate.waitSeconds.map { h(ReportTime.duration($0)) } ?? "—", h(gate.note ?? "")]
            })
        }
        line("<h3>Who ran the tool</h3>")
        table(["#", "Process", "At", "Event", "Last event"], custody.sessions.enumerated().map { index, session in
            [String(index + 1), h(session.kind), time(session.at), h(session.message), time(session.lastEventAt)]
        }, numeric: [0])
        line("</section>")

        // Timeline
        line("<section id=\"timeline\"><h2>Timeline</h2>")
        line("<p>From \(time(timeline.start)) to \(time(timeline.end)).</p>")
        line(GanttChart.svg(timeline))
        line("<p class=\"legend\"><span><i style=\"background:#2e7d32\"></i>stage done</span><span><i style=\"background:#c62828\"></i>stage failed</span>"
            + "<span><i style=\"background:#f9a825\"></i>not finished</span><span><i style=\"background:#ffe0a3;border:1px dashed #b26a00\"></i>waiting at a gate</span>"
            + "<span><i style=\"background:rgba(198,40,40,.25);border:1px solid #c62828\"></i>interrupted</span><span><i style=\"background:#6a1b9a\"></i>throttled</span></p>")
        table(["#", "Stage", "Kind", "Status", "Started", "Finished", "Took", "Operations"], timeline.stages.enumerated().map { index, stage in
            [String(index + 1), "\(h(stage.id)): \(h(stage.title))", h(stage.kind), h(stage.status.rawValue), time(stage.startedAt), time(stage.finishedAt),
             h(ReportWording.duration(from: stage.startedAt, to: stage.finishedAt))
                + (stage.simulatedSeconds.map { " (\(h(ReportTime.duration($0))) simulated)" } ?? ""),
             String(stage.operations)]
        }, numeric: [0, 7])
        line("<h3>Interruptions and resumes</h3>")
        if timeline.interruptions.isEmpty {
            none(ReportWording.noInterruptions)
        } else {
            table(["Stopped (last event)", "Cause", "Stage", "Resumed", "Resumed by", "Downtime"], timeline.interruptions.map { item in
                ["\(time(item.lastEventAt)) (\(h(item.lastEventKind)))", h(ReportWording.cause(item.cause)), h(item.stageID ?? "—"),
                 time(item.resumedAt), h(item.resumedBy), h(ReportTime.duration(item.downtimeSeconds))]
            })
        }
        line("<h3>Throttling</h3>")
        if timeline.throttling.isEmpty {
            none(ReportWording.noThrottling)
        } else {
            table(["At", "Event", "Stage", "Message"], timeline.throttling.map { [time($0.at), h($0.kind), h($0.stageID ?? "—"), h($0.message)] })
        }
        line("</section>")

        // Failures and follow-ups
        line("<section id=\"failures\"><h2>Failures and follow-ups</h2>")
        line("<h3>Failed operations</h3>")
        if report.failures.isEmpty { none(ReportWording.noFailures) }
        for group in report.failures {
            line("<h4>\(h(group.code)) (\(group.operations.count))</h4>")
            line("<p><strong>Action:</strong> \(h(group.action))</p>")
            table(["Operation", "Stage", "Type", "Display name", "Source id", "Message", "Request-id", "Attempts"], group.operations.map { op in
                [id(op.key), h(op.stageID), h(op.type), h(op.displayName), id(op.sourceID), h(op.message), id(op.requestID ?? "—"), String(op.attempts)]
            }, numeric: [7])
        }
        line("<h3>Errors resolved by a later attempt</h3>")
        if report.resolvedErrors.isEmpty {
            none(ReportWording.noResolvedErrors)
        } else {
            table(["At", "Stage", "Operation", "Error"], report.resolvedErrors.map { [time($0.at), h($0.stageID ?? "—"), id($0.operationKey), h($0.message)] })
        }
        line("<h3>Skipped operations</h3>")
        if report.skipped.isEmpty { none(ReportWording.noSkipped) }
        for group in report.skipped {
            line("<h4>\(h(group.category)) (\(group.count))</h4>")
            line("<p><strong>Action:</strong> \(h(group.action))</p>")
            table(["Operation", "Stage", "Type", "Display name", "Source id", "Reason"], group.operations.map { op in
                [id(op.key), h(op.stageID), h(op.type), h(op.displayName), id(op.sourceID), h(op.reason)]
            })
            if let more = ReportWording.more(group.count - group.operations.count, of: group.count) { none(more) }
        }
        line("<h3>What could not be restored (follow-ups)</h3>")
        if report.followUps.isEmpty { none(ReportWording.noFollowUps) }
        for group in report.followUps {
            line("<h4>\(h(group.category)) (\(group.count))</h4>")
            table(["Stage", "Object", "What", "Action"], group.items.map { item in
                [h(item.stageID), h(item.displayName ?? "—"), h(item.message), h(item.action)]
            })
            if let more = ReportWording.more(group.count - group.items.count, of: group.count) { none(more) }
        }
        line("<h3>Conditional access policies left in report-only</h3>")
        if let text = ReportWording.conditionalAccess(report) {
            none(text)
        } else {
            table(["Policy", "What", "Action"], report.conditionalAccessReportOnly.map { [h($0.displayName ?? "—"), h($0.message), h($0.action)] })
        }
        line("</section>")

        // Verification
        line("<section id=\"verification\"><h2>Verification</h2>")
        if report.verification.isEmpty { none(ReportWording.noVerify) }
        for stage in report.verification {
            line("<h3>\(h(stage.stageID)): \(h(stage.title)) (\(h(stage.status.rawValue)))</h3>")
            table(ReportWording.countColumns, stage.counts.map { [h($0.type)] + ReportWording.countCells($0) }, numeric: Set(1...9))
            if stage.differences.isEmpty {
                none("No differences.")
            } else {
                table(["Check", "Type", "Display name", "Source id", "Difference"], stage.differences.map { op in
                    [id(op.key), h(op.type), h(op.displayName), id(op.sourceID), h("\(op.code): \(op.message)")]
                })
            }
        }
        line("</section>")

        // ID map
        line("<section id=\"idmap\"><h2>ID map</h2>")
        line("<p>\(report.idMap.total) objects have a new id (\(report.idMap.withAppIDs) with old and new appIds).</p>")
        if !report.idMap.byType.isEmpty {
            table(["Type", "Created", "Adopted", "Restored"], report.idMap.byType.map {
                [h($0.type), String($0.created), String($0.adopted), String($0.restored)]
            }, numeric: [1, 2, 3])
        }
        line("<p>\(h(ReportWording.idMapExport)) <code>lifeboat idmap --state STATE --format csv</code> (or <code>--format json</code>).</p>")
        line("</section>")
        return out
    }
}

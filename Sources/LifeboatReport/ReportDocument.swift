import Foundation

/// The post-incident report as a document: its sections in order, each a list of headings, paragraphs and tables of
/// plain text. Built once from a ``RunReport`` by ``init(_:)`` — the one place that says what the report shows and in
/// which words — and rendered by ``MarkdownReport`` and ``HTMLReport``, which only know how to write blocks. (The JSON
/// report renders the ``RunReport`` itself: its schema is data, not layout.)
///
/// To add a section: give ``RunReport`` its data (``RunReport/build(from:generatedAt:)``), add the section here, add its
/// key to the JSON report and to `Docs/report-schema.md` (a test checks the JSON keys are documented).
package struct ReportDocument: Sendable, Hashable {
    package var title: String
    package var subtitle: String
    package var sections: [Section]

    /// A top-level section (`<section id=…><h2>` in HTML, `##` in Markdown).
    package struct Section: Sendable, Hashable {
        /// A stable identifier (the HTML anchor).
        package var id: String
        package var title: String
        package var blocks: [Block]
    }

    package enum Block: Sendable, Hashable {
        /// A heading below the section's (`h3`, `###`).
        case heading(String)
        /// A heading below a ``heading(_:)`` (`h4`, `####`).
        case subheading(String)
        case paragraph([Inline])
        /// A sentence saying there is nothing to show (greyed in HTML).
        case nothing([Inline])
        /// What to do about a group of failures: "Action: …".
        case action(String)
        case table(Table)
        /// Headline figures shown as cards in HTML; Markdown leaves them out (the summary table that follows repeats them).
        case cards([Card])
        /// The timeline chart: an SVG in HTML, a sentence in Markdown.
        case chart(Timeline)
    }

    /// A run of text with how it is set. Every run is plain text, escaped by the renderer.
    package enum Inline: Sendable, Hashable {
        case text(String)
        case strong(String)
        /// Hashes and tenant ids (monospace in HTML).
        case mono(String)
        /// Operation keys, source ids and request-ids (monospace, breakable, in HTML).
        case id(String)
        /// A command to type.
        case code(String)
    }

    package struct Table: Sendable, Hashable {
        /// Column headers; empty for a two-column table of facts (label, value).
        package var headers: [String]
        package var rows: [[[Inline]]]
        /// Columns aligned right.
        package var numeric: Set<Int> = []
        /// A two-column table of facts: the first cell of each row is its label.
        package var facts: Bool = false
    }

    package struct Card: Sendable, Hashable {
        package enum Tone: String, Sendable, Hashable { case ok, bad, warn, info }
        package var label: String
        package var value: String
        /// A badge's colour; nil for a plain value.
        package var tone: Tone?
    }
}

extension ReportDocument {
    /// Lays the report out: every section, in order.
    package init(_ report: RunReport) {
        title = ReportWording.title(report)
        subtitle = ReportWording.subtitle(report)
        sections = [
            Self.summary(report), Self.estimate(report), Self.readiness(report), Self.custody(report), Self.timeline(report),
            Self.failures(report), Self.verification(report), Self.idMap(report),
        ]
    }

    private static func t(_ text: String) -> [Inline] { [.text(text)] }
    private static func time(_ date: Date?) -> String { date.map(ReportTime.human) ?? "—" }
    private static func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> Block {
        .table(Table(headers: headers, rows: rows.map { $0.map(t) }, numeric: numeric))
    }
    private static func facts(_ rows: [(String, [Inline])]) -> Block {
        .table(Table(headers: [], rows: rows.map { [t($0.0), $0.1] }, facts: true))
    }
    private static func counts(_ rows: [TypeCounts]) -> Block {
        table(ReportWording.countColumns, rows.map { [$0.type] + ReportWording.countCells($0) }, numeric: Set(1...9))
    }
    /// Under a group that lists only its first objects: how many more, and the command that lists them all.
    private static func more(_ hidden: Int, of count: Int) -> Block? {
        guard hidden > 0 else { return nil }
        return .nothing([
            .text("The first \(count - hidden) of \(count) are listed; \(hidden) more. Every follow-up: "),
            .code("lifeboat followups --state CHECKPOINT.sqlite --format csv"), .text(" (or "), .code("--format json"), .text(")."),
        ])
    }

    static func summary(_ report: RunReport) -> Section {
        let run = report.run
        let badge: Card.Tone =
            switch run.outcome {
            case .completed: .ok
            case .stoppedWithFailures: .bad
            case .pausedAtGate, .incomplete: .warn
            }
        let rto: Card.Tone =
            switch run.objective {
            case .met: .ok
            case .missed: .bad
            case .pending, .none: .info
            }
        var rows: [(String, [Inline])] = [
            ("Outcome", [.strong(ReportWording.outcome(run.outcome)), .text(" (status \(run.status.rawValue))")]),
            ("Started", t(time(run.startedAt))),
            ("Finished", t(run.finishedAt.map(ReportTime.human) ?? "not finished (last event \(time(run.lastEventAt)))")),
            ("Wall time", t(ReportTime.duration(run.wallSeconds))),
        ]
        if let simulated = run.simulatedSeconds { rows.append(("Simulated time", t(ReportTime.duration(simulated)))) }
        rows += [
            ("Interruptions", t(ReportWording.interruptions(run))),
            ("Waiting at gates", t(ReportTime.duration(run.gateWaitSeconds))),
            ("Recovery-time objective", t(ReportWording.objective(run))),
        ]
        return Section(
            id: "summary", title: "Summary",
            blocks: [
                .cards([
                    Card(label: "Outcome", value: ReportWording.outcome(run.outcome), tone: badge),
                    Card(label: "Wall time", value: ReportTime.duration(run.wallSeconds)),
                    Card(label: "Interruptions", value: ReportWording.interruptions(run)),
                    Card(label: "Recovery-time objective", value: run.objective.rawValue, tone: rto),
                ]),
                facts(rows),
                .heading("Operations by type"),
                report.counts.isEmpty ? .nothing(t("No operations were planned.")) : counts(report.counts),
            ])
    }

    static func estimate(_ report: RunReport) -> Section {
        guard let estimate = report.estimate else {
            return Section(id: "estimate", title: "RTO estimate", blocks: [.nothing(t(EstimateWording.none))])
        }
        return Section(
            id: "estimate", title: "RTO estimate",
            blocks: [
                .paragraph(t(EstimateWording.headline(estimate))),
                .paragraph(t(EstimateWording.criticalPath(estimate))),
                table(EstimateWording.breakdownColumns, EstimateWording.breakdown(estimate), numeric: [1, 2]),
                table(EstimateWording.stageColumns, estimate.stages.map(EstimateWording.stageRow), numeric: [1, 2, 3, 4, 5, 6]),
            ])
    }

    static func readiness(_ report: RunReport) -> Section {
        guard let readiness = report.readiness else {
            return Section(id: "readiness", title: "Readiness", blocks: [.nothing(t(ReadinessWording.none))])
        }
        return Section(
            id: "readiness", title: "Readiness",
            blocks: [
                .paragraph(t(readiness.headline)),
                readiness.findings.isEmpty
                    ? .nothing(t(ReadinessWording.clean)) : table(ReadinessWording.columns, readiness.findings.map(ReadinessWording.row)),
            ])
    }

    static func custody(_ report: RunReport) -> Section {
        let custody = report.custody
        var rows: [(String, [Inline])] = [
            ("Source tenant", [.mono(custody.sourceTenantId)]),
            ("Snapshot", t(custody.snapshotPath)),
            (
                "Captured",
                t(
                    custody.snapshotCapturedAt
                        + (custody.snapshotAgeSeconds.map { " (\(ReportTime.duration($0)) before the restore started)" } ?? ""))
            ),
            ("Manifest SHA-256", [.mono(custody.manifestSHA256)]),
            ("Signature", t(custody.signatureStatus)),
            ("Runbook", t("\(custody.runbookName) (\(custody.runbookPath))")),
            ("Runbook SHA-256", [.mono(custody.runbookSHA256)]),
        ]
        for change in custody.runbookChanged { rows.append(("Runbook changed", t(change))) }
        if !custody.parameters.isEmpty {
            rows.append(
                ("Parameters", t(custody.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))))
        }
        rows += [
            ("Tool", t("Lifeboat \(custody.toolVersion)")),
            ("Target", t(custody.target)),
            ("Target tenant", [.mono(custody.targetTenantId ?? "—")]),
            ("Started by", t("\(custody.operatorName) on \(custody.host)")),
        ]
        return Section(
            id: "custody", title: "Chain of custody",
            blocks: [
                facts(rows),
                .heading("Gates"),
                custody.gates.isEmpty
                    ? .nothing(t("No gate was reached."))
                    : table(
                        ["Gate", "Status", "Requested", "Decided by", "Decided at", "Waited", "Note"],
                        custody.gates.map { gate in
                            [
                                gate.stageID, gate.status, time(gate.requestedAt), gate.decidedBy ?? "—", time(gate.decidedAt),
                                gate.waitSeconds.map(ReportTime.duration) ?? "—", gate.note ?? "",
                            ]
                        }),
                .heading("Who ran the tool"),
                table(
                    ["#", "Process", "At", "Event", "Last event"],
                    custody.sessions.enumerated().map { index, session in
                        [String(index + 1), session.kind, time(session.at), session.message, time(session.lastEventAt)]
                    }, numeric: [0]),
            ])
    }

    static func timeline(_ report: RunReport) -> Section {
        let timeline = report.timeline
        return Section(
            id: "timeline", title: "Timeline",
            blocks: [
                .paragraph(t("From \(time(timeline.start)) to \(time(timeline.end)).")),
                .chart(timeline),
                table(
                    ["#", "Stage", "Kind", "Status", "Started", "Finished", "Took", "Operations"],
                    timeline.stages.enumerated().map { index, stage in
                        [
                            String(index + 1), "\(stage.id): \(stage.title)", stage.kind, stage.status.rawValue, time(stage.startedAt),
                            time(stage.finishedAt),
                            ReportWording.duration(from: stage.startedAt, to: stage.finishedAt)
                                + (stage.simulatedSeconds.map { " (\(ReportTime.duration($0)) simulated)" } ?? ""),
                            String(stage.operations),
                        ]
                    }, numeric: [0, 7]),
                .heading("Interruptions and resumes"),
                timeline.interruptions.isEmpty
                    ? .nothing(t(ReportWording.noInterruptions))
                    : table(
                        ["Stopped (last event)", "Cause", "Stage", "Resumed", "Resumed by", "Downtime"],
                        timeline.interruptions.map { item in
                            [
                                "\(time(item.lastEventAt)) (\(item.lastEventKind))", ReportWording.cause(item.cause), item.stageID ?? "—",
                                time(item.resumedAt), item.resumedBy, ReportTime.duration(item.downtimeSeconds),
                            ]
                        }),
                .heading("Throttling"),
                timeline.throttling.isEmpty
                    ? .nothing(t(ReportWording.noThrottling))
                    : table(
                        ["At", "Event", "Stage", "Message"],
                        timeline.throttling.map { [time($0.at), $0.kind, $0.stageID ?? "—", $0.message] }),
            ])
    }

    static func failures(_ report: RunReport) -> Section {
        var blocks: [Block] = [.heading("Failed operations")]
        if report.failures.isEmpty { blocks.append(.nothing(t(ReportWording.noFailures))) }
        for group in report.failures {
            blocks += [
                .subheading("\(group.code) (\(group.operations.count))"), .action(group.action),
                .table(
                    Table(
                        headers: ["Operation", "Stage", "Type", "Display name", "Source id", "Message", "Request-id", "Attempts"],
                        rows: group.operations.map { op in
                            [
                                [.id(op.key)], t(op.stageID), t(op.type), t(op.displayName), [.id(op.sourceID)], t(op.message),
                                [.id(op.requestID ?? "—")], t(String(op.attempts)),
                            ]
                        }, numeric: [7])),
            ]
        }
        blocks.append(.heading("Errors resolved by a later attempt"))
        blocks.append(
            report.resolvedErrors.isEmpty
                ? .nothing(t(ReportWording.noResolvedErrors))
                : .table(
                    Table(
                        headers: ["At", "Stage", "Operation", "Error"],
                        rows: report.resolvedErrors.map { [t(time($0.at)), t($0.stageID ?? "—"), [.id($0.operationKey)], t($0.message)] })))
        blocks.append(.heading("Skipped operations"))
        if report.skipped.isEmpty { blocks.append(.nothing(t(ReportWording.noSkipped))) }
        for group in report.skipped {
            blocks += [
                .subheading("\(group.category) (\(group.count))"), .action(group.action),
                .table(
                    Table(
                        headers: ["Operation", "Stage", "Type", "Display name", "Source id", "Reason"],
                        rows: group.operations.map { op in
                            [[.id(op.key)], t(op.stageID), t(op.type), t(op.displayName), [.id(op.sourceID)], t(op.reason)]
                        })),
            ]
            if let more = more(group.count - group.operations.count, of: group.count) { blocks.append(more) }
        }
        blocks.append(.heading("What could not be restored (follow-ups)"))
        if report.followUps.isEmpty { blocks.append(.nothing(t(ReportWording.noFollowUps))) }
        for group in report.followUps {
            blocks += [
                .subheading("\(group.category) (\(group.count))"),
                table(
                    ["Stage", "Object", "What", "Action"], group.items.map { [$0.stageID, $0.displayName ?? "—", $0.message, $0.action] }),
            ]
            if let more = more(group.count - group.items.count, of: group.count) { blocks.append(more) }
        }
        blocks.append(.heading("Conditional access policies left in report-only"))
        if let none = ReportWording.conditionalAccess(report) {
            blocks.append(.nothing(t(none)))
        } else {
            blocks.append(
                table(
                    ["Policy", "What", "Action"], report.conditionalAccessReportOnly.map { [$0.displayName ?? "—", $0.message, $0.action] })
            )
        }
        return Section(id: "failures", title: "Failures and follow-ups", blocks: blocks)
    }

    static func verification(_ report: RunReport) -> Section {
        var blocks: [Block] = report.verification.isEmpty ? [.nothing(t(ReportWording.noVerify))] : []
        for stage in report.verification {
            blocks += [.heading("\(stage.stageID): \(stage.title) (\(stage.status.rawValue))"), counts(stage.counts)]
            blocks.append(
                stage.differences.isEmpty
                    ? .nothing(t("No differences."))
                    : .table(
                        Table(
                            headers: ["Check", "Type", "Display name", "Source id", "Difference"],
                            rows: stage.differences.map { op in
                                [[.id(op.key)], t(op.type), t(op.displayName), [.id(op.sourceID)], t("\(op.code): \(op.message)")]
                            })))
        }
        return Section(id: "verification", title: "Verification", blocks: blocks)
    }

    static func idMap(_ report: RunReport) -> Section {
        var blocks: [Block] = [
            .paragraph(t("\(report.idMap.total) objects have a new id (\(report.idMap.withAppIDs) with old and new appIds)."))
        ]
        if !report.idMap.byType.isEmpty {
            blocks.append(
                table(
                    ["Type", "Created", "Adopted", "Restored"],
                    report.idMap.byType.map { [$0.type, String($0.created), String($0.adopted), String($0.restored)] }, numeric: [1, 2, 3]))
        }
        blocks.append(
            .paragraph([
                .text(ReportWording.idMapExport + " "), .code("lifeboat idmap --state STATE --format csv"), .text(" (or "),
                .code("--format json"), .text(")."),
            ]))
        return Section(id: "idmap", title: "ID map", blocks: blocks)
    }
}

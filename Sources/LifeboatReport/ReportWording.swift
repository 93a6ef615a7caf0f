import Foundation
import LifeboatEngine

/// Words shared by the Markdown and HTML renderers, so both say the same thing. Plain text: each renderer escapes it.
enum ReportWording {
    static func title(_ report: RunReport) -> String {
        "Post-incident report: \(report.run.runbookName) (\(report.run.mode.rawValue))"
    }

    static func subtitle(_ report: RunReport) -> String {
        "Run \(report.run.id) · \(outcome(report.run.outcome)) · started \(ReportTime.human(report.run.startedAt))"
    }

    static func outcome(_ outcome: RunSummary.Outcome) -> String {
        switch outcome {
        case .completed: "completed"
        case .stoppedWithFailures: "stopped with failed operations"
        case .pausedAtGate: "paused at a gate"
        case .incomplete: "incomplete (running, or the process ended and was not resumed)"
        }
    }

    static func objective(_ run: RunSummary) -> String {
        let measured = "\(ReportTime.duration(run.measuredSeconds)) \(run.measuredIsSimulated ? "simulated" : "wall-clock")"
        guard let limit = run.objectiveSeconds else { return "none stated by the runbook (took \(measured))" }
        switch run.objective {
        case .met: return "\(ReportTime.duration(limit)): met (took \(measured))"
        case .missed: return "\(ReportTime.duration(limit)): missed (took \(measured))"
        case .pending, .none: return "\(ReportTime.duration(limit)): not decided yet (\(measured) so far, run not finished)"
        }
    }

    static func interruptions(_ run: RunSummary) -> String {
        run.interruptionCount == 0
            ? "none"
            : "\(run.interruptionCount) (downtime \(ReportTime.duration(run.downtimeSeconds)))"
    }

    static func cause(_ cause: Timeline.Interruption.Cause) -> String {
        switch cause {
        case .processEnded: "process ended without a stop record (killed or crashed)"
        case .stoppedAfterFailures: "stopped after failed operations"
        case .stoppedByOperator: "stopped by the operator (Ctrl-C) between operations"
        }
    }

    static let countColumns = [
        "Type", "Restored", "Created", "Applied", "Adopted", "Unchanged", "Skipped", "Failed", "Unfinished", "Follow-ups",
    ]

    static func countCells(_ row: TypeCounts) -> [String] {
        [row.restored, row.created, row.applied, row.adopted, row.unchanged, row.skipped, row.failed, row.unfinished, row.followUps].map(
            String.init)
    }

    static func duration(from start: Date?, to end: Date?) -> String {
        guard let start, let end else { return "—" }
        return ReportTime.duration(end.timeIntervalSince(start))
    }

    static let noThrottling = "No throttling: the event log has no throttle.* events for this run."
    static let noInterruptions = "No interruptions: every process that worked on the run stopped at a gate or finished."
    static let noFailures = "No failed operations."
    static let noSkipped = "No skipped operations."
    static let noFollowUps = "No follow-ups."

    static let noResolvedErrors = "No errors were recorded during the run."
    static let noVerify = "No verify stage in this run: restored objects were not compared with the snapshot, so fidelity is not measured."
    static let signatureNote = "Snapshot signatures do not exist in snapshot format v1."

    static func conditionalAccess(_ report: RunReport) -> String? {
        guard report.conditionalAccessReportOnly.isEmpty else { return nil }
        return report.hasConditionalAccessStage
            ? "No conditional access policy was left in report-only mode."
            : "No conditional access stage in this run: no policies were restored, none is left in report-only mode."
    }

    static let idMapExport = "The full map (type, old id, new id, natural key, display name, how, old and new appId) is exported by"
}

/// The RTO estimate's sentences and table rows, shared by the Markdown and HTML renderers (plain text, escaped by each).
enum EstimateWording {
    static let none =
        "No RTO estimate: the run was not on a simulated clock (a tabletop measures one; a live run's time is the wall time above)."

    static func headline(_ estimate: RTOEstimate) -> String {
        let total =
            "\(ReportTime.duration(estimate.totalSeconds)) simulated" + (estimate.complete ? "" : " so far (the run has not finished)")
        guard let objective = estimate.objectiveSeconds else { return "Recovery time \(total); the runbook states no objective." }
        return "Recovery time \(total) against the objective of \(ReportTime.duration(objective)): \(estimate.verdict.rawValue)."
    }

    static func criticalPath(_ estimate: RTOEstimate) -> String {
        guard let path = estimate.criticalPath, let seconds = estimate.criticalPathSeconds else {
            return "Critical path: not available (the checkpoint holds no stage graph)."
        }
        return
            "Critical path through the stages' after: dependencies (the time if independent stages ran side by side): \(ReportTime.duration(seconds)) — "
            + path.joined(separator: " → ") + ". Stages run one after another, so the run itself took the sum of the stages: "
            + ReportTime.duration(estimate.stageSumSeconds) + "."
    }

    static let breakdownColumns = ["Where the time went", "Simulated", "Share"]

    static func breakdown(_ estimate: RTOEstimate) -> [[String]] {
        var rows = RTOEstimate.reasons.map { reason in
            [
                reason.label, ReportTime.duration(estimate.seconds(reason.key)),
                RTOEstimate.percent(estimate.seconds(reason.key), of: estimate.totalSeconds),
            ]
        }
        rows.append([
            "Unattributed (waits a killed process had not stored)", ReportTime.duration(estimate.unattributedSeconds),
            RTOEstimate.percent(estimate.unattributedSeconds, of: estimate.totalSeconds),
        ])
        return rows
    }

    static let stageColumns = ["Stage", "Simulated", "Throttling", "Retries", "Polling", "People", "Interruptions", "Critical path"]

    static func stageRow(_ stage: RTOEstimate.Stage) -> [String] {
        [stage.id + (stage.finished ? "" : " (not finished)"), ReportTime.duration(stage.seconds)]
            + ["throttling", "retry", "polling", "people", "interruption"].map { ReportTime.duration(stage.waits[$0, default: 0]) }
            + [stage.onCriticalPath ? "yes" : ""]
    }
}

/// Words of the readiness section.
enum ReadinessWording {
    static let none = "No readiness verdict was recorded for this run (`lifeboat readiness --runbook R --snapshot S` assesses one)."
    static let clean = "The readiness check found nothing this backup and runbook cannot bring back."
    static let columns = ["Severity", "Finding", "Objects", "Fix"]

    static func row(_ finding: ReadinessSection.Finding) -> [String] {
        [finding.severity.uppercased(), "[\(finding.kind)] \(finding.summary)", objects(finding), finding.fix]
    }

    /// The count and the first three objects.
    static func objects(_ finding: ReadinessSection.Finding) -> String {
        guard finding.objectCount > 0 else { return "—" }
        let shown = finding.objects.prefix(3).joined(separator: "; ")
        let more = finding.objectCount - min(3, finding.objects.count)
        return "\(finding.objectCount): \(shown)" + (more > 0 ? " … and \(more) more" : "")
    }
}

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

    static let countColumns = ["Type", "Restored", "Created", "Applied", "Adopted", "Unchanged", "Skipped", "Failed", "Unfinished", "Follow-ups"]

    static func countCells(_ row: TypeCounts) -> [String] {
        [row.restored, row.created, row.applied, row.adopted, row.unchanged, row.skipped, row.failed, row.unfinished, row.followUps].map(String.init)
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

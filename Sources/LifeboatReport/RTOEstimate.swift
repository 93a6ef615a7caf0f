import Foundation
import LifeboatEngine
import LifeboatJSON

/// A tabletop's recovery-time estimate, from the simulated clock: how long each stage took, where the time went
/// (throttling, retries, polling, people), the critical path through the stage graph (`after:`), and the objective.
///
/// Every number is measured, not modelled: the simulated clock books each move under the reason of the wait that made
/// it (``LifeboatGraph/WaitReason``), and the tabletop stores those sums per stage in the checkpoint.
package struct RTOEstimate: Sendable, Hashable {
    /// One stage's share of the simulated time.
    package struct Stage: Sendable, Hashable {
        package var id: String
        package var title: String
        /// Simulated seconds from the stage's gate (or its start, without a gate) to its end (or its last event).
        package var seconds: Double
        /// Simulated seconds waited in the stage, by reason (`throttling`, `retry`, `polling`, `people`, `interruption`, `other`).
        package var waits: [String: Double]
        /// The stages it waits for.
        package var after: [String]
        package var onCriticalPath: Bool
        /// Whether the stage finished.
        package var finished: Bool
    }

    package var stages: [Stage]
    /// Simulated seconds from the run's first to its last event.
    package var totalSeconds: Double
    /// The sum of the stages' times (the executor runs stages one after another, so this is close to the total).
    package var stageSumSeconds: Double
    /// Stage ids on the longest path through `after:`: the recovery time if independent stages ran side by side.
    /// Nil when the checkpoint holds no stage graph (runs started before it was recorded).
    package var criticalPath: [String]?
    package var criticalPathSeconds: Double?
    /// Simulated seconds waited, by reason, over the whole run.
    package var waits: [String: Double]
    package var objectiveSeconds: Double?
    /// Whether every stage finished (otherwise the numbers are so far).
    package var complete: Bool
    /// Simulated waiting per Graph limit against the limit's arithmetic lower bound, summed over the run's sessions
    /// (tabletops with throttling on; empty otherwise).
    package var limits: [LimitWaiting] = []

    /// One throttling limit's simulated waiting and the least its work needs.
    package struct LimitWaiting: Sendable, Hashable {
        /// `x-ms-throttle-scope` of the limit, e.g. `Tenant_Application/Writes`.
        package var scope: String
        package var label: String
        package var waited: Double
        package var lowerBound: Double
        /// Waiting ÷ lower bound; nil when the bound is zero.
        package var ratio: Double? { lowerBound > 0 ? waited / lowerBound : nil }
    }

    /// The per-limit figures of every session (``RunEvent/throttlingLimits(_:)``), summed by scope (in first-seen order).
    static func limits(from events: [ReportEvent]) -> [LimitWaiting] {
        var order: [String] = []
        var byScope: [String: LimitWaiting] = [:]
        for event in events {
            guard case .throttlingLimits(let figures) = event.event else { continue }
            for figure in figures {
                if byScope[figure.scope] == nil {
                    order.append(figure.scope)
                    byScope[figure.scope] = LimitWaiting(scope: figure.scope, label: figure.label, waited: 0, lowerBound: 0)
                }
                byScope[figure.scope]!.waited += figure.waited
                byScope[figure.scope]!.lowerBound += figure.lowerBound
            }
        }
        return order.compactMap { byScope[$0] }
    }

    /// Reasons in the order reports list them, with their words.
    package static let reasons: [(key: String, label: String)] = [
        ("throttling", "Throttling (Retry-After and quota waits)"),
        ("retry", "Retries (transient errors, replication lag)"),
        ("polling", "Polling (DNS records)"),
        ("people", "People (gates, manual work)"),
        ("interruption", "Interruptions (operator's machine down)"),
        ("other", "Other waits"),
    ]

    /// Seconds waited for one reason.
    package func seconds(_ reason: String) -> Double { waits[reason, default: 0] }

    /// Simulated time no wait accounts for (lost when a killed process had not yet stored its last waits).
    package var unattributedSeconds: Double { max(0, totalSeconds - waits.values.reduce(0, +)) }

    /// Share of the total lost to throttling, 0…1.
    package var throttlingShare: Double { totalSeconds > 0 ? seconds("throttling") / totalSeconds : 0 }

    /// `met`, `missed`, or `none` when the runbook states no objective.
    package var verdict: RunSummary.ObjectiveVerdict {
        guard let objectiveSeconds else { return .none }
        if totalSeconds > objectiveSeconds { return .missed }
        return complete ? .met : .pending
    }

    /// The estimate of a run, or nil when it did not run on a simulated clock.
    static func compute(
        stages records: [StageRecord], events: [ReportEvent], waits: [String: [String: Double]],
        dependencies: [String: [String]]?, objective: Double?, complete: Bool
    ) -> RTOEstimate? {
        let simulated = events.compactMap(\.simulatedSeconds)
        guard let first = simulated.min(), let last = simulated.max() else { return nil }
        var start: [String: Double] = [:], end: [String: Double] = [:], latest: [String: Double] = [:]
        for event in events {
            guard let stage = event.stageID, let at = event.simulatedSeconds else { continue }
            latest[stage] = max(latest[stage] ?? at, at)
            if start[stage] == nil, event.kind == .gateWaiting || event.kind == .stageRunning { start[stage] = at }
            if event.kind.finishesStage { end[stage] = at }
        }
        var stages = records.map { record -> Stage in
            let from = start[record.id], to = end[record.id] ?? latest[record.id]
            return Stage(
                id: record.id, title: record.title, seconds: from.flatMap { f in to.map { max(0, $0 - f) } } ?? 0,
                waits: waits[record.id] ?? [:], after: dependencies?[record.id] ?? [], onCriticalPath: false,
                finished: record.status == .done)
        }
        var path: [String]?
        var pathSeconds: Double?
        if dependencies != nil {
            // Longest path through the DAG; stages are stored in a topological order of `after:`.
            var finish: [String: Double] = [:], previous: [String: String] = [:]
            for stage in stages {
                let before = stage.after.compactMap { id in finish[id].map { (id, $0) } }.max { $0.1 < $1.1 }
                finish[stage.id] = (before?.1 ?? 0) + stage.seconds
                if let before { previous[stage.id] = before.0 }
            }
            // The stage that finishes last; on a tie, the later one (a zero-length stage at the end still belongs on the path).
            var last: Stage?
            for stage in stages where last == nil || finish[stage.id, default: 0] >= finish[last!.id, default: 0] { last = stage }
            if let tail = last {
                var ids = [tail.id]
                while let next = previous[ids[0]] { ids.insert(next, at: 0) }
                path = ids
                pathSeconds = finish[tail.id]
                let onPath = Set(ids)
                for index in stages.indices { stages[index].onCriticalPath = onPath.contains(stages[index].id) }
            }
        }
        var totals: [String: Double] = [:]
        for (_, byReason) in waits { for (reason, seconds) in byReason { totals[reason, default: 0] += seconds } }
        return RTOEstimate(
            stages: stages, totalSeconds: last - first, stageSumSeconds: stages.map(\.seconds).reduce(0, +),
            criticalPath: path, criticalPathSeconds: pathSeconds, waits: totals, objectiveSeconds: objective,
            complete: complete)
    }
}

extension RTOEstimate {
    /// The estimate as a few lines of plain text (printed at the end of a tabletop).
    package var summaryLines: [String] {
        var lines: [String] = []
        let total = ReportTime.duration(totalSeconds)
        let objective =
            objectiveSeconds.map { " against the objective of \(ReportTime.duration($0)): \(verdict.rawValue)" }
            ?? " (the runbook states no objective)"
        lines.append("RTO estimate: \(total) simulated\(complete ? "" : " so far")\(objective)")
        if let criticalPath, let criticalPathSeconds {
            lines.append(
                "  critical path \(ReportTime.duration(criticalPathSeconds)) (if independent stages overlapped): \(criticalPath.joined(separator: " → "))"
            )
        }
        for (key, label) in Self.reasons where seconds(key) > 0 {
            lines.append("  \(label): \(ReportTime.duration(seconds(key))) (\(Self.percent(seconds(key), of: totalSeconds)))")
        }
        if unattributedSeconds >= 1 {
            lines.append("  Unattributed: \(ReportTime.duration(unattributedSeconds)) (waits of a killed process not yet stored)")
        }
        if !limits.isEmpty {
            lines.append(
                "  Throttling per limit (simulated waiting against the limit's arithmetic lower bound: its work beyond the first window ÷ its rate):"
            )
            for limit in limits {
                let ratio = limit.ratio.map { String(format: "%.2f×", $0) } ?? "no bound"
                lines.append(
                    "    \(limit.label): \(ReportTime.duration(limit.waited)) waited; lower bound \(ReportTime.duration(limit.lowerBound)) (\(ratio))"
                )
            }
        }
        return lines
    }

    static func percent(_ part: Double, of whole: Double) -> String {
        whole > 0 ? String(format: "%.0f%%", part / whole * 100) : "0%"
    }
}

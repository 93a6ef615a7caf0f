import Foundation
import LifeboatEngine

/// The timeline as an inline SVG Gantt chart: one bar per stage, gate waits, interruptions and throttling marks, and a
/// time axis. No script, no external font or asset; every label is escaped (stage titles come from the runbook).
enum GanttChart {
    static let width = 1000.0
    static let labelWidth = 250.0
    static let rightPad = 24.0
    static let axisHeight = 44.0
    static let rowHeight = 26.0

    static func svg(_ timeline: Timeline) -> String {
        let h = ReportEscaping.html
        let chartWidth = width - labelWidth - rightPad
        let span = max(timeline.end.timeIntervalSince(timeline.start), 0.01)
        let rows = max(timeline.stages.count, 1)
        let height = axisHeight + Double(rows) * rowHeight + 12
        func x(_ date: Date) -> Double { labelWidth + min(max(date.timeIntervalSince(timeline.start) / span, 0), 1) * chartWidth }
        func n(_ value: Double) -> String { String(format: "%.1f", value) }
        func rowY(_ index: Int) -> Double { axisHeight + Double(index) * rowHeight }

        var svg = """
            <svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(n(width)) \(n(height))" role="img" \
            aria-label="Timeline of the run: one bar per stage" font-family="Helvetica, Arial, sans-serif" font-size="12">

            """
        // Row stripes and stage labels.
        for (index, stage) in timeline.stages.enumerated() {
            let y = rowY(index)
            if index % 2 == 0 {
                svg += "<rect x=\"0\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(rowHeight))\" fill=\"#f5f7fa\"/>\n"
            }
            let label = truncated("\(stage.id) · \(stage.title)", to: 38)
            svg +=
                "<text x=\"8\" y=\"\(n(y + rowHeight * 0.65))\" fill=\"#1b2430\">\(h(label))<title>\(h(stage.id)): \(h(stage.title)) [\(h(stage.kind))]</title></text>\n"
        }
        // Axis: six ticks, elapsed time above the wall-clock time.
        for tick in 0...5 {
            let at = timeline.start.addingTimeInterval(span * Double(tick) / 5)
            let tx = x(at)
            let anchor = tick == 0 ? "start" : (tick == 5 ? "end" : "middle")
            svg +=
                "<line x1=\"\(n(tx))\" y1=\"\(n(axisHeight - 6))\" x2=\"\(n(tx))\" y2=\"\(n(height - 8))\" stroke=\"#d5dbe3\" stroke-width=\"1\"/>\n"
            svg +=
                "<text x=\"\(n(tx))\" y=\"16\" text-anchor=\"\(anchor)\" fill=\"#5b6675\">+\(h(ReportTime.duration(at.timeIntervalSince(timeline.start))))</text>\n"
            svg +=
                "<text x=\"\(n(tx))\" y=\"31\" text-anchor=\"\(anchor)\" fill=\"#5b6675\" font-size=\"10\">\(h(ReportTime.clock(at)))</text>\n"
        }
        // Gate waits, on their stage's row.
        let rowOf = Dictionary(timeline.stages.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        for wait in timeline.gateWaits {
            guard let row = rowOf[wait.stageID] else { continue }
            let x1 = x(wait.from), x2 = max(x(wait.until ?? timeline.end), x1 + 3)
            let by = wait.decidedBy.map { ", approved by \($0)" } ?? ", still waiting"
            svg +=
                "<rect x=\"\(n(x1))\" y=\"\(n(rowY(row) + 4))\" width=\"\(n(x2 - x1))\" height=\"\(n(rowHeight - 8))\" fill=\"#ffe0a3\" stroke=\"#b26a00\" stroke-dasharray=\"3 2\">"
                + "<title>gate \(h(wait.stageID)) waited \(h(ReportTime.duration((wait.until ?? timeline.end).timeIntervalSince(wait.from))))\(h(by))</title></rect>\n"
        }
        // Stage bars.
        for (index, stage) in timeline.stages.enumerated() {
            guard let start = stage.startedAt else { continue }
            let end = stage.finishedAt ?? stage.lastEventAt ?? start
            let x1 = x(start), x2 = max(x(end), x1 + 3)
            let color =
                switch stage.status {
                case .done: "#2e7d32"
                case .failed: "#c62828"
                case .running, .waiting: "#f9a825"
                case .pending: "#90a4ae"
                }
            let took = stage.finishedAt.map { "took \(ReportTime.duration($0.timeIntervalSince(start)))" } ?? "not finished"
            svg +=
                "<rect x=\"\(n(x1))\" y=\"\(n(rowY(index) + 6))\" width=\"\(n(x2 - x1))\" height=\"\(n(rowHeight - 12))\" rx=\"2\" fill=\"\(color)\">"
                + "<title>\(h(stage.id)): \(h(stage.status.rawValue)), \(h(took)), \(stage.operations) operations</title></rect>\n"
        }
        // Interruptions: a band across every row from the last event before the stop to the resume.
        for item in timeline.interruptions {
            let x1 = x(item.lastEventAt), x2 = max(x(item.resumedAt), x1 + 3)
            let top = axisHeight - 4, bottom = height - 8
            svg +=
                "<rect x=\"\(n(x1))\" y=\"\(n(top))\" width=\"\(n(x2 - x1))\" height=\"\(n(bottom - top))\" fill=\"#c62828\" fill-opacity=\"0.18\" stroke=\"#c62828\" stroke-width=\"1\">"
                + "<title>interrupted: \(h(ReportWording.cause(item.cause))); down \(h(ReportTime.duration(item.downtimeSeconds))); \(h(item.resumedBy))</title></rect>\n"
            svg +=
                "<text x=\"\(n(min(x2 + 3, width - 4)))\" y=\"\(n(axisHeight + 10))\" fill=\"#c62828\" font-size=\"10\" font-weight=\"bold\""
                + "\(x2 + 90 > width ? " text-anchor=\"end\"" : "")>⚡ interrupted \(h(ReportTime.duration(item.downtimeSeconds)))</text>\n"
        }
        // Throttling marks.
        for event in timeline.throttling {
            let row = event.stageID.flatMap { rowOf[$0] } ?? 0
            let tx = x(event.at), y = rowY(row) + rowHeight - 4
            svg +=
                "<path d=\"M\(n(tx - 4)) \(n(y)) L\(n(tx + 4)) \(n(y)) L\(n(tx)) \(n(y - 7)) Z\" fill=\"#6a1b9a\"><title>\(h(event.kind)): \(h(event.message))</title></path>\n"
        }
        svg += "</svg>"
        return svg
    }

    /// Shortens a label by characters (before escaping, so an entity is never cut in half).
    static func truncated(_ text: String, to count: Int) -> String {
        text.count <= count ? text : String(text.prefix(count - 1)) + "…"
    }
}

import Foundation

/// The report as Markdown (GitHub-flavoured tables), for tickets and wikis: writes a ``ReportDocument``'s blocks. Every
/// value is escaped with ``ReportEscaping/markdown(_:)``: no pipe, newline, HTML tag, link or emphasis from a display
/// name survives as syntax.
package enum MarkdownReport {
    /// Renders the report with the templates' Markdown header.
    package static func render(_ report: RunReport, templates: ReportTemplates) throws(ReportError) -> String {
        let e = ReportEscaping.markdown
        let document = ReportDocument(report)
        let header = try templates.markdownHeader.fill([
            "title": e(document.title), "subtitle": e(document.subtitle),
            "generatedAt": e(ReportTime.human(report.generatedAt)), "toolVersion": e(report.custody.toolVersion),
            "schemaVersion": String(JSONReport.schemaVersion),
        ])
        var out = (header.hasSuffix("\n") ? header : header + "\n") + "\n"
        for section in document.sections {
            out += "## \(e(section.title))\n\n"
            for block in section.blocks { out += render(block) }
        }
        // Every block ends with a blank line; the document ends with one newline.
        while out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }

    static func render(_ block: ReportDocument.Block) -> String {
        let e = ReportEscaping.markdown
        switch block {
        case .heading(let text): return "### \(e(text))\n\n"
        case .subheading(let text): return "#### \(e(text))\n\n"
        case .paragraph(let runs), .nothing(let runs): return inline(runs) + "\n\n"
        case .action(let text): return "Action: \(e(text))\n\n"
        case .cards: return ""
        case .chart: return "The HTML report draws it as a chart.\n\n"
        case .table(let table):
            let headers = table.facts ? ["", ""] : table.headers
            var lines = [
                "| " + headers.map(e).joined(separator: " | ") + " |",
                "|" + headers.indices.map { table.numeric.contains($0) ? "---:" : "---" }.joined(separator: "|") + "|",
            ]
            for row in table.rows { lines.append("| " + row.map(inline).joined(separator: " | ") + " |") }
            return lines.joined(separator: "\n") + "\n\n"
        }
    }

    static func inline(_ runs: [ReportDocument.Inline]) -> String {
        let e = ReportEscaping.markdown
        return runs.map { run in
            switch run {
            case .text(let text), .mono(let text), .id(let text): e(text)
            case .strong(let text): "**\(e(text))**"
            case .code(let text): "`\(text.replacingOccurrences(of: "`", with: ""))`"
            }
        }.joined()
    }
}

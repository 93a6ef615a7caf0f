import Foundation

/// The report as one self-contained HTML file: inline CSS and SVG, no JavaScript, no external asset, print styles
/// for A4 and Letter. Writes a ``ReportDocument``'s blocks; every value goes through ``ReportEscaping/html(_:)``.
package enum HTMLReport {
    /// Renders the report into the templates' page.
    package static func render(_ report: RunReport, templates: ReportTemplates) throws(ReportError) -> String {
        let h = ReportEscaping.html
        let document = ReportDocument(report)
        let css = try templates.css.fill([:])
        return try templates.html.fill([
            "title": h(document.title), "subtitle": h(document.subtitle),
            "generatedAt": h(ReportTime.human(report.generatedAt)), "toolVersion": h(report.custody.toolVersion),
            "schemaVersion": String(JSONReport.schemaVersion), "css": css.replacingOccurrences(of: "</", with: "<\\/"),
            "body": body(document),
        ])
    }

    static func body(_ document: ReportDocument) -> String {
        var out = ""
        for section in document.sections {
            out += "<section id=\"\(ReportEscaping.html(section.id))\"><h2>\(ReportEscaping.html(section.title))</h2>\n"
            for block in section.blocks { out += render(block) }
            out += "</section>\n"
        }
        return out
    }

    static func render(_ block: ReportDocument.Block) -> String {
        let h = ReportEscaping.html
        switch block {
        case .heading(let text): return "<h3>\(h(text))</h3>\n"
        case .subheading(let text): return "<h4>\(h(text))</h4>\n"
        case .paragraph(let runs): return "<p>\(inline(runs))</p>\n"
        case .nothing(let runs): return "<p class=\"none\">\(inline(runs))</p>\n"
        case .action(let text): return "<p><strong>Action:</strong> \(h(text))</p>\n"
        case .cards(let cards):
            let items = cards.map { card in
                let value = card.tone.map { "<span class=\"badge \($0.rawValue)\">\(h(card.value))</span>" } ?? h(card.value)
                return "<div class=\"card\"><div class=\"label\">\(h(card.label))</div><div class=\"value\">\(value)</div></div>\n"
            }
            return "<div class=\"cards\">\n" + items.joined() + "</div>\n"
        case .chart(let timeline):
            return GanttChart.svg(timeline) + "\n"
                + "<p class=\"legend\"><span><i style=\"background:#2e7d32\"></i>stage done</span><span><i style=\"background:#c62828\"></i>stage failed</span>"
                + "<span><i style=\"background:#f9a825\"></i>not finished</span><span><i style=\"background:#ffe0a3;border:1px dashed #b26a00\"></i>waiting at a gate</span>"
                + "<span><i style=\"background:rgba(198,40,40,.25);border:1px solid #c62828\"></i>interrupted</span><span><i style=\"background:#6a1b9a\"></i>throttled</span></p>\n"
        case .table(let table):
            var lines = [table.facts ? "<table class=\"kv\">" : "<table>"]
            if !table.facts {
                lines.append(
                    "<thead><tr>"
                        + table.headers.enumerated().map {
                            "<th\(table.numeric.contains($0.offset) ? " class=\"num\"" : "")>\(h($0.element))</th>"
                        }.joined() + "</tr></thead>")
            }
            lines.append("<tbody>")
            for row in table.rows {
                lines.append(
                    "<tr>"
                        + row.enumerated().map { index, cell in
                            table.facts && index == 0
                                ? "<th>\(inline(cell))</th>"
                                : "<td\(table.numeric.contains(index) ? " class=\"num\"" : "")>\(inline(cell))</td>"
                        }.joined() + "</tr>")
            }
            lines.append("</tbody></table>")
            return lines.joined(separator: "\n") + "\n"
        }
    }

    static func inline(_ runs: [ReportDocument.Inline]) -> String {
        let h = ReportEscaping.html
        return runs.map { run in
            switch run {
            case .text(let text): h(text)
            case .strong(let text): "<strong>\(h(text))</strong>"
            case .mono(let text): "<span class=\"mono\">\(h(text))</span>"
            case .id(let text): "<span class=\"id\">\(h(text))</span>"
            case .code(let text): "<code>\(h(text))</code>"
            }
        }.joined()
    }
}

import Foundation

/// The formats a report is written in.
package enum ReportFormat: String, Sendable, CaseIterable {
    case markdown, html, json

    /// The format a file name implies: `.md`/`.markdown`, `.html`/`.htm`, `.json`; nil otherwise.
    package init?(fileExtension path: String) {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "md", "markdown": self = .markdown
        case "html", "htm": self = .html
        case "json": self = .json
        default: return nil
        }
    }
}

extension RunReport {
    /// The report in a format, as the bytes of a file.
    package func rendered(as format: ReportFormat, templates: ReportTemplates) throws -> Data {
        switch format {
        case .markdown: Data(try MarkdownReport.render(self, templates: templates).utf8)
        case .html: Data(try HTMLReport.render(self, templates: templates).utf8)
        case .json: try JSONReport.render(self)
        }
    }
}

import Foundation

/// A template with `{{name}}` placeholders. The renderers fill every placeholder with text they have already escaped
/// (or markup they produced), so a template never sees a raw value from the snapshot.
package struct ReportTemplate: Sendable, Hashable {
    /// The file it came from, for error messages.
    package var name: String
    package var text: String

    package init(name: String, text: String) {
        self.name = name
        self.text = text
    }

    /// The placeholders the template uses, in order of appearance.
    package var placeholders: [String] {
        var names: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            names.append(String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Replaces every `{{name}}` with `values[name]`; a placeholder without a value is an error, so a branded template
    /// with a typo fails loudly instead of printing braces.
    package func fill(_ values: [String: String]) throws(ReportError) -> String {
        var output = ""
        var rest = text[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            output += rest[..<open.lowerBound]
            let key = String(rest[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespaces)
            guard let value = values[key] else { throw ReportError.unknownPlaceholder(name: key, template: name) }
            output += value
            rest = rest[close.upperBound...]
        }
        output += rest
        return output
    }
}

/// The templates a report is rendered with: the HTML page, its stylesheet and the Markdown header.
///
/// The defaults are `Templates/`, compiled into the binary (``ReportResources``); an organisation brands its reports by putting any of
/// `report.html`, `report.css` and `report-header.md` in a directory and passing it as `--template-dir`.
package struct ReportTemplates: Sendable, Hashable {
    package var html: ReportTemplate
    package var css: ReportTemplate
    package var markdownHeader: ReportTemplate

    /// The file names a template directory may hold.
    package static let fileNames = (html: "report.html", css: "report.css", markdownHeader: "report-header.md")

    /// The shipped templates, overridden file by file by those in `directory` when given.
    package static func load(overridingWith directory: URL? = nil) throws(ReportError) -> ReportTemplates {
        func read(_ file: String) throws(ReportError) -> ReportTemplate {
            if let directory {
                let url = directory.appendingPathComponent(file)
                if FileManager.default.fileExists(atPath: url.path) { return try contents(of: url) }
            }
            guard let shipped = ReportResources.files["Templates/\(file)"] else {
                throw ReportError.templateUnreadable(
                    path: "Templates/\(file)", reason: "the shipped templates are missing from this build (Scripts/embed-resources.py)")
            }
            return ReportTemplate(name: file, text: shipped)
        }
        return ReportTemplates(
            html: try read(fileNames.html), css: try read(fileNames.css), markdownHeader: try read(fileNames.markdownHeader))
    }

    private static func contents(of url: URL) throws(ReportError) -> ReportTemplate {
        do {
            return ReportTemplate(name: url.lastPathComponent, text: try String(contentsOf: url, encoding: .utf8))
        } catch {
            throw ReportError.templateUnreadable(path: url.path, reason: "\(error.localizedDescription)")
        }
    }
}

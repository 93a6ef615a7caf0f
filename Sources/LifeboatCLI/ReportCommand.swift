import ArgumentParser
import Foundation
import LifeboatEngine
import LifeboatReport

/// `lifeboat report`: the post-incident report of a run, from its checkpoint database.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract:
            "Write the post-incident report of a run: summary, chain of custody, timeline, failures, follow-ups, verification, ID map counts.",
        discussion: """
            HTML is one self-contained file (no JavaScript, no external assets) that prints on A4 or Letter; Markdown suits \
            tickets and wikis; JSON follows the versioned schema in Docs/report-schema.md. Reports contain no secrets.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: "markdown, html or json (default: from --out's extension, otherwise markdown).")
    var format: String?

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    @Option(help: "A directory with report.html, report.css and/or report-header.md that replace the shipped templates (branding).")
    var templateDir: String?

    func validate() throws {
        if let format, ReportFormat(rawValue: format) == nil { throw ValidationError("--format must be markdown, html or json") }
    }

    func run() async throws {
        let format = self.format.flatMap(ReportFormat.init(rawValue:)) ?? out.flatMap(ReportFormat.init(fileExtension:)) ?? .markdown
        let store = try openExisting(state.state)
        try await ReportWriter.write(store: store, format: format, to: out, templateDirectory: templateDir)
        if let out { printError("Report written to \(out)") }
    }
}

/// Writes a report, shared by `lifeboat report` and `lifeboat tabletop --report`.
enum ReportWriter {
    /// Builds and writes the report to `path` (standard output when nil); invalid input exits with code 2.
    static func write(store: CheckpointStore, format: ReportFormat, to path: String?, templateDirectory: String?) async throws {
        let data: Data
        do {
            let templates = try ReportTemplates.load(overridingWith: templateDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) })
            data = try await RunReport.build(from: store).rendered(as: format, templates: templates)
        } catch let error as ReportError {
            printError("lifeboat: \(error)")
            throw ExitStatus.invalidInput
        }
        guard let path else {
            FileHandle.standardOutput.write(data)
            return
        }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
    }
}

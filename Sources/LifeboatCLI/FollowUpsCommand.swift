import ArgumentParser
import Foundation
import LifeboatEngine

/// `lifeboat followups`: every follow-up of a run, for the people who work through them.
struct FollowUpsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "followups",
        abstract: "Print or write every follow-up of a run (stage, category, operation, source id, object, what, action) as CSV or JSON.",
        discussion: """
            The report groups follow-ups by category and lists the first of each; this is the complete list. CSV cells \
            holding a comma, quote, CR or LF are quoted, and cells starting with = + - @ get a leading apostrophe so that \
            a spreadsheet does not run them.
            """)

    @OptionGroup var state: StateOptions

    @Option(help: "csv or json.")
    var format: String = "csv"

    @Option(help: "Write to this file instead of standard output.")
    var out: String?

    func validate() throws {
        guard FollowUpFormat(rawValue: format) != nil else { throw ValidationError("--format must be csv or json") }
    }

    func run() async throws {
        guard let format = FollowUpFormat(rawValue: format) else { throw ValidationError("--format must be csv or json") }
        let store = try openExisting(state.state)
        let data = try FollowUpWriter.render(try await store.followUps(), format: format)
        guard let out else {
            FileHandle.standardOutput.write(data)
            return
        }
        let url = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url, options: .atomic)
        printError("Follow-ups written to \(out)")
    }
}

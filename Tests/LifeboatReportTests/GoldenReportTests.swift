import Foundation
import LifeboatJSON
import LifeboatReport
import LifeboatTestSupport
import Testing

/// The Markdown and JSON of a fixed tabletop, compared byte for byte with `Golden/`.
///
/// After a deliberate change, rewrite the files with `LIFEBOAT_UPDATE_GOLDEN=1 swift test --filter GoldenReport` and
/// review the diff in git.
@Suite struct GoldenReportTests {
    static let goldenDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test func markdownAndJSONMatchTheGoldenFiles() async throws {
        let drill = try await ReportDrill.goldenRun()
        let report = try await drill.report()
        let templates = try ReportTemplates.load()
        try compare(try report.rendered(as: .markdown, templates: templates), golden: "tabletop.md")
        try compare(try report.rendered(as: .json, templates: templates), golden: "tabletop.json")
    }

    @Test func theGoldenRunShowsTheGateTheStopAndTheResolvedError() async throws {
        let drill = try await ReportDrill.goldenRun()
        let report = try await drill.report()
        #expect(report.run.outcome == .completed)
        #expect(report.run.objective == .met)
        #expect(report.custody.gates.first?.decidedBy == "Ada Lovelace")
        #expect((report.custody.gates.first?.waitSeconds ?? 0) > 30 * 60)
        #expect(report.timeline.interruptions.map(\.cause) == [.stoppedAfterFailures])
        #expect((report.timeline.interruptions.first?.downtimeSeconds ?? 0) >= 10 * 60)
        #expect(report.custody.sessions.map(\.kind) == ["started", "resumed", "resumed"])
        #expect(report.resolvedErrors.count == 1 && report.resolvedErrors[0].message.contains("5e1f0c3a-77b2-4d51-9f0e-6a8b2c4d1e90"))
        #expect(report.failures.isEmpty)
        #expect(report.skipped.contains { $0.category == "synced-object" })
        #expect(report.verification.isEmpty)
        let users = try #require(report.counts.first { $0.type == "user" })
        #expect(users.created == 39 && users.skipped == 1 && users.failed == 0)  // 38 members and the re-invited guest
    }

    /// Compares with a golden file, or rewrites it when `LIFEBOAT_UPDATE_GOLDEN=1`.
    func compare(_ actual: Data, golden name: String) throws {
        let url = Self.goldenDirectory.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["LIFEBOAT_UPDATE_GOLDEN"] == "1" {
            try actual.write(to: url)
            return
        }
        let expected = (try? Data(contentsOf: url)) ?? Data()
        guard actual != expected else { return }
        let actualLines = String(decoding: actual, as: UTF8.self).components(separatedBy: "\n")
        let expectedLines = String(decoding: expected, as: UTF8.self).components(separatedBy: "\n")
        var diff: [String] = []
        for index in 0..<max(actualLines.count, expectedLines.count) {
            let old = index < expectedLines.count ? expectedLines[index] : nil
            let new = index < actualLines.count ? actualLines[index] : nil
            guard old != new else { continue }
            if let old { diff.append("-\(index + 1): \(old)") }
            if let new { diff.append("+\(index + 1): \(new)") }
            if diff.count >= 40 { diff.append("… (more differences)"); break }
        }
        let written = FileManager.default.temporaryDirectory.appendingPathComponent("lifeboat-actual-\(name)")
        try? actual.write(to: written)
        Issue.record(
            """
            \(name) differs from Tests/LifeboatReportTests/Golden/\(name) (- golden, + actual; the actual output is in \(written.path)).
            If the change is intended: LIFEBOAT_UPDATE_GOLDEN=1 swift test --filter GoldenReport, then review `git diff`.
            \(diff.joined(separator: "\n"))
            """)
    }
}

@Suite struct ReportSchemaDocumentationTests {
    /// Every key the JSON report writes is named in Docs/report-schema.md, so the documented schema stays complete.
    @Test func everyJSONFieldIsDocumented() async throws {
        let drill = try await ReportDrill.goldenRun()
        let document = try JSONCoding.decode(try await drill.report().rendered(as: .json, templates: try ReportTemplates.load()))
        let docs = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Docs/report-schema.md"), encoding: .utf8)
        var keys: Set<String> = []
        func collect(_ value: JSONValue) {
            if let object = value.objectValue {
                for (key, child) in object {
                    keys.insert(key)
                    collect(child)
                }
            }
            for child in value.arrayValue ?? [] { collect(child) }
        }
        collect(document)
        // Keys of runbook parameters are data, not schema; the golden run has none.
        let undocumented = keys.filter { name in
            !["`\(name)`", ".\(name)`", "`\(name).", "`\(name)[]", ".\(name)[]"].contains { docs.contains($0) }
        }.sorted()
        #expect(undocumented.isEmpty, "not in Docs/report-schema.md: \(undocumented)")
    }
}

import Foundation
import LifeboatEngine
import LifeboatTestSupport
import Testing

/// The README is the front door and `Docs/` the manual: these keep both honest.
@Suite struct DocumentationTests {
    static let readmeLimit = 12 * 1024

    /// Pages other branches write (bench: benchmarks, graph-time: recovery time). The index links them; until they
    /// are merged they may be absent. Once present they are checked like every other page.
    static func text(_ path: String) throws -> String {
        try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
    }

    static var markdownFiles: [String] {
        let docs = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Docs").path)) ?? []
        return ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "Docs/\($0)" }
    }

    @Test func theReadmeIsAFrontDoorNotTheManual() throws {
        let size = try Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md")).count
        #expect(
            size <= Self.readmeLimit,
            "README.md is \(size) bytes, over \(Self.readmeLimit): move detail into a page under Docs/ and link it")
    }

    /// CI (`.ci/run`) runs the README's test command, and the first command is the one people try: both stay as written.
    @Test func theReadmeKeepsTheTwoCommands() throws {
        let readme = try Self.text("README.md")
        #expect(
            readme.contains(
                "\nswift run lifeboat tabletop --runbook Runbooks/rebuild-new-tenant.yaml --snapshot Examples/contoso --state drill/contoso.sqlite --report drill/report.html\n"
            ))
        #expect(readme.contains("# Run the test suite\nswift test\n"))
        #expect(try Self.text(".ci/run").contains("\nswift test\n"))
    }

    /// Every relative link in the README and in Docs/ names a file that exists and, for a `#fragment` into a Markdown
    /// file, a heading of that file.
    @Test func everyDocumentationLinkResolves() throws {
        var broken: [String] = []
        for file in Self.markdownFiles {
            let text = try Self.text(file)
            let base = (file as NSString).deletingLastPathComponent
            for link in Self.links(in: text) where !link.contains("://") && !link.hasPrefix("mailto:") {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target = parts[0].isEmpty ? file : ((base as NSString).appendingPathComponent(parts[0]) as NSString).standardizingPath
                guard FileManager.default.fileExists(atPath: Fixtures.repositoryRoot.appendingPathComponent(target).path) else {
                    broken.append("\(file): \(link) (no file \(target))")
                    continue
                }
                if parts.count == 2, target.hasSuffix(".md") {
                    let anchors = Set(
                        try Self.text(target).split(separator: "\n").filter { $0.hasPrefix("#") }.map { Self.anchor(String($0)) })
                    if !anchors.contains(parts[1]) { broken.append("\(file): \(link) (no heading #\(parts[1]) in \(target))") }
                }
            }
        }
        #expect(broken.isEmpty, "broken links:\n\(broken.joined(separator: "\n"))")
    }

    /// The generated stage-kind reference is the committed one.
    @Test func theStageKindReferenceIsInStepWithTheSpecs() throws {
        let committed = (try? Self.text(StageKindReference.path)) ?? ""
        let generated = StageKindReference.markdown()
        if committed != generated {
            let old = committed.split(separator: "\n", omittingEmptySubsequences: false),
                new = generated.split(separator: "\n", omittingEmptySubsequences: false)
            let line = (0..<min(old.count, new.count)).first { old[$0] != new[$0] } ?? min(old.count, new.count)
            Issue.record(
                """
                \(StageKindReference.path) is out of date with the stage specs (first difference at line \(line + 1)); regenerate it:
                \(StageKindReference.regenerateCommand)
                """)
        }
        for kind in StageCatalog.kinds.keys { #expect(generated.contains("## `\(kind)`")) }
    }

    @Test func linksAndAnchorsAreReadAsGitHubDoes() {
        #expect(Self.links(in: "see [a](b.md#c-d) and [e](https://x/y) ![i](img.png)") == ["b.md#c-d", "https://x/y", "img.png"])
        #expect(Self.anchor("## `users.create`") == "userscreate")
        #expect(Self.anchor("## Adopting, narrowing and partial restores") == "adopting-narrowing-and-partial-restores")
    }

    /// The targets of `[text](target)` links.
    static func links(in text: String) -> [String] {
        let pattern = /\]\(([^)\s]+)\)/
        return text.matches(of: pattern).map { String($0.output.1) }
    }

    /// GitHub's anchor for a heading line: lower-cased, punctuation other than `-` and `_` dropped, spaces to `-`.
    static func anchor(_ heading: String) -> String {
        let title = heading.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces).lowercased()
        return String(
            title.compactMap { character -> Character? in
                if character == " " { return "-" }
                return character.isLetter || character.isNumber || character == "-" || character == "_" ? character : nil
            })
    }
}

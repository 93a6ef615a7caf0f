import Foundation
import LifeboatJSON
import LifeboatReport
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@Suite struct ReportEscapingTests {
    static let script = "<script>alert(1)</script>"
    static let image = "\"><img src=x onerror=alert(1)>"

    /// Renames objects in a copy of the example: the synced user (skipped, so it appears in the report), another user made
    /// synced too, and a group whose write the target refuses (so it appears among the failures).
    static func hostileSnapshot(in directory: TemporaryDirectory) throws -> URL {
        let snapshot = try Fixtures.copyContoso(into: directory)
        func rename(_ file: String, _ change: @escaping (inout JSONObject) -> Void) throws {
            try Fixtures.rewrite(file, in: snapshot) { data in
                let document = (try? JSONCoding.decode(data)) ?? .null
                var items = document["value"]?.arrayValue ?? document.arrayValue ?? []
                for index in items.indices {
                    guard var object = items[index].objectValue else { continue }
                    change(&object)
                    items[index] = .object(object)
                }
                return (try? JSONCoding.encodePretty(JSONValue.array(items))) ?? data
            }
        }
        try rename("users.json") { user in
            if user["displayName"]?.stringValue == "Tom Becker" { user["displayName"] = .string(script) }
            if user["displayName"]?.stringValue == "Rajesh Iyer" {
                user["displayName"] = .string("Rajesh \(image)")
                user["onPremisesSyncEnabled"] = true
            }
        }
        try rename("groups.json") { group in
            if group["displayName"]?.stringValue == "SG-Finance" { group["displayName"] = .string("SG \(image) \(script)") }
        }
        return snapshot
    }

    @Test func hostileDisplayNamesAreEscapedInHTMLAndMarkdown() async throws {
        let temporary = try TemporaryDirectory("hostile")
        let drill = try await ReportDrill("xss", snapshot: try Self.hostileSnapshot(in: temporary))
        let refused = drill.refusing(
            "onerror", status: 403, code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.",
            requestID: "0c9d8e7f-1111-4222-8333-444455556666")
        let outcome = try await drill.executor(gates: .autoApprove(by: "tester"), refusing: refused).run()
        #expect(outcome == .failed(stageID: "groups", failedOperations: 1))

        let report = try await drill.report()
        let templates = try ReportTemplates.load()
        let html = String(decoding: try report.rendered(as: .html, templates: templates), as: UTF8.self)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("Rajesh &quot;&gt;&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("SG &quot;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;script&gt;"))
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))

        let markdown = String(decoding: try report.rendered(as: .markdown, templates: templates), as: UTF8.self)
        #expect(markdown.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!markdown.contains("<script"))
        #expect(!markdown.contains("<img"))

        // The failure carries Graph's code, request-id and the action, grouped by cause.
        let failure = try #require(report.failures.first)
        #expect(failure.code == "Authorization_RequestDenied")
        #expect(failure.operations.first?.requestID == "0c9d8e7f-1111-4222-8333-444455556666")
        #expect(failure.action.contains("permission"))
        #expect(report.run.outcome == .stoppedWithFailures)

        // JSON keeps the value as it is (JSON escaping is the consumer's parser's business) and still parses.
        let json = try JSONCoding.decode(try report.rendered(as: .json, templates: templates))
        #expect(
            json["failures"]?.arrayValue?.first?["operations"]?.arrayValue?.first?["displayName"]?.stringValue
                == "SG \(Self.image) \(Self.script)")
    }

    @Test(arguments: [
        ("a|b", "a\\|b"), ("line\nbreak", "line break"), ("<b>", "&lt;b&gt;"), ("[x](javascript:1)", "\\[x\\](javascript:1)"),
        ("*bold* _it_", "\\*bold\\* \\_it\\_"), ("`code`", "\\`code\\`"),
    ])
    func markdownEscaping(_ input: String, _ expected: String) {
        #expect(ReportEscaping.markdown(input) == expected)
    }

    @Test func htmlEscapingCoversAttributesAndText() {
        #expect(ReportEscaping.html("<a href='x' title=\"y\">&</a>") == "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;")
    }
}

@Suite struct ReportTemplateTests {
    @Test func aTemplateDirectoryBrandsTheReport() async throws {
        let drill = try await ReportDrill("brand")
        #expect(try await drill.executor(gates: .autoApprove(by: "tester")).run() == .completed)
        try "<html><head><style>{{css}}</style></head><body><h1>Contoso DR · {{title}}</h1>{{body}}</body></html>"
            .write(toFile: drill.directory.path("report.html"), atomically: true, encoding: .utf8)
        let templates = try ReportTemplates.load(overridingWith: drill.directory.url)
        let html = String(decoding: try await drill.report().rendered(as: .html, templates: templates), as: UTF8.self)
        #expect(html.hasPrefix("<html><head><style>/* Lifeboat report stylesheet."))
        #expect(html.contains("<h1>Contoso DR · Post-incident report: rebuild-new-tenant (tabletop)</h1>"))
        #expect(html.contains("<svg class=\"gantt\""))
    }

    @Test func anUnknownPlaceholderIsAnErrorThatNamesIt() throws {
        let template = ReportTemplate(name: "report.html", text: "<h1>{{titel}}</h1>")
        #expect(throws: ReportError.unknownPlaceholder(name: "titel", template: "report.html")) { try template.fill(["title": "x"]) }
    }

    @Test func theHTMLIsOneFileWithoutScriptsOrExternalAssets() async throws {
        let drill = try await ReportDrill.goldenRun()
        let html = String(decoding: try await drill.report().rendered(as: .html, templates: try ReportTemplates.load()), as: UTF8.self)
        #expect(html.contains("<svg class=\"gantt\""))
        #expect(html.contains("@media print"))
        for forbidden in ["<script", "src=\"http", "href=\"http", "@import", "url(http", "<link"] {
            #expect(!html.contains(forbidden), "\(forbidden)")
        }
        // One bar per stage, a gate wait and the stop after failures are drawn.
        #expect(html.components(separatedBy: "rx=\"2\" fill=").count - 1 == 7)
        #expect(html.contains("gate create-tenant waited 30m"))
        #expect(html.contains("interrupted: stopped after failed operations"))
    }
}

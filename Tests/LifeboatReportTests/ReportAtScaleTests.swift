import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatReport
import LifeboatTestSupport
import Testing

/// A run with thousands of follow-ups: the report counts them per category and lists the first of each.
@Suite struct ReportAtScaleTests {
    @Test func followUpsAreGroupedByCauseWithCountsAndTheFirstObjects() async throws {
        let drill = try await ReportDrill("scale")
        let outcome = try await drill.executor(gates: .autoApprove(by: "tester")).run()
        #expect(outcome == .completed)
        let before = try await drill.report()
        let stage = try #require(drill.runbook.stages.first).id
        for index in 0..<2_500 {
            try await drill.store.addFollowUp(
                FollowUp(
                    category: "bulk-credentials", message: "user \(index) needs a new password",
                    action: "Issue a Temporary Access Pass"), stageID: stage)
        }
        let report = try await drill.report()
        let group = try #require(report.followUps.first { $0.category == "bulk-credentials" })
        #expect(group.count == 2_500)
        #expect(group.items.count == RunReport.shownPerGroup)
        #expect(group.items.map(\.message) == (0..<RunReport.shownPerGroup).map { "user \($0) needs a new password" })
        // The other groups are as before.
        #expect(report.followUps.filter { $0.category != "bulk-credentials" } == before.followUps)

        let templates = try ReportTemplates.load()
        let html = String(decoding: try report.rendered(as: .html, templates: templates), as: UTF8.self)
        #expect(html.contains("bulk-credentials (2500)"))
        #expect(html.contains("The first 10 of 2500 are listed; 2490 more."))
        #expect(html.contains("lifeboat followups --state"))
        #expect(html.contains("user 9 needs a new password") && !html.contains("user 10 needs a new password"))
        let markdown = String(decoding: try report.rendered(as: .markdown, templates: templates), as: UTF8.self)
        #expect(markdown.contains("#### bulk-credentials (2500)"))
        #expect(markdown.contains("2490 more"))
        let json = try JSONCoding.decode(try report.rendered(as: .json, templates: templates))
        let entry = try #require(json["followUps"]?.arrayValue?.first { $0["category"]?.stringValue == "bulk-credentials" })
        #expect(entry["count"]?.numberValue == 2_500)
        #expect(entry["items"]?.arrayValue?.count == 10)
        #expect(json["schemaVersion"]?.numberValue == 2)
        // The report with 2,500 more follow-ups is barely larger than without them.
        let small = try before.rendered(as: .html, templates: templates).count
        #expect(html.utf8.count < small + 8_000, "\(html.utf8.count) bytes against \(small)")
    }
}

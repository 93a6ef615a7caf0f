import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat followups` with the real binary: the complete list the report's summary points to.
@Suite struct FollowUpsCommandTests {
    @Test func listsEveryFollowUpOfATabletopAsCSVAndJSON() async throws {
        let directory = try TemporaryDirectory("followups")
        let state = directory.path("s.sqlite")
        let run = try await runTabletop(state: state, in: directory, ["--report", directory.path("report.json")])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONCoding.decode(Data(contentsOf: URL(fileURLWithPath: directory.path("report.json"))))
        let counted = (report["followUps"]?.arrayValue ?? []).reduce(0) { $0 + Int($1["count"]?.numberValue ?? 0) }
        #expect(counted > 0)

        let json = try await runLifeboat(["followups", "--state", state, "--format", "json"], in: directory)
        #expect(json.status == 0, "\(json.stderr)")
        let rows = try #require(try JSONCoding.decode(Data(json.stdout.utf8)).arrayValue)
        #expect(rows.count == counted)
        #expect(rows.allSatisfy { $0["category"]?.stringValue?.isEmpty == false && $0["action"]?.stringValue != nil })

        let csv = try await runLifeboat(["followups", "--state", state, "--out", directory.path("out/followups.csv")], in: directory)
        #expect(csv.status == 0, "\(csv.stderr)")
        let text = try String(contentsOfFile: directory.path("out/followups.csv"), encoding: .utf8)
        #expect(text.hasPrefix("stage,category,operationKey,sourceId,displayName,message,action\n"))

        let bad = try await runLifeboat(["followups", "--state", state, "--format", "xlsx"], in: directory)
        #expect(bad.status == 64)
        let missing = try await runLifeboat(["followups", "--state", directory.path("nope.sqlite")], in: directory)
        #expect(missing.status == 2)
    }
}

import Foundation
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat report` and `lifeboat tabletop --report` with the real binary.
@Suite struct ReportCommandTests {

    @Test func aRunKilledAndResumedShowsTheInterruption() async throws {
        let directory = try TemporaryDirectory("report-crash")
        let state = directory.path("drill.sqlite")
        let killed = try await runTabletop(state: state, in: directory, ["--simulate-crash", "response:7@users"])
        #expect(killed.killedBySignal && killed.status == SIGKILL, "expected SIGKILL, got \(killed.status): \(killed.stderr)")
        let resumed = try await runLifeboat(["resume", "--state", state], in: directory)
        #expect(resumed.status == 0, "\(resumed.stderr)")

        let json = try await runLifeboat(["report", "--state", state, "--format", "json"], in: directory)
        #expect(json.status == 0, "\(json.stderr)")
        let document = try JSONCoding.decode(Data(json.stdout.utf8))
        #expect(document["schema"]?.stringValue == "lifeboat.report")
        #expect(document["schemaVersion"]?.numberValue == 2)
        #expect(document["run"]?["outcome"]?.stringValue == "completed")
        #expect(document["run"]?["interruptions"]?.numberValue == 1)
        let interruption = try #require(document["timeline"]?["interruptions"]?.arrayValue?.first)
        #expect(interruption["cause"]?.stringValue == "process-ended")
        #expect(interruption["stage"]?.stringValue == "users")
        #expect(interruption["lastEventKind"]?.stringValue == "operations.sent")
        #expect(interruption["resumedBy"]?.stringValue?.hasPrefix("resumed by ") == true)
        #expect(document["custody"]?["sessions"]?.arrayValue?.count == 2)
        // The writes in flight at the kill were looked up and adopted, not written twice.
        let users = try #require(document["counts"]?.arrayValue?.first { $0["type"]?.stringValue == "user" })
        #expect((users["adopted"]?.numberValue ?? 0) >= 1)
        #expect(users["failed"]?.numberValue == 0)
        // The readiness verdict of the run's start is in the report, once, though the run was resumed.
        #expect(document["readiness"]?["headline"]?.stringValue?.hasPrefix("Readiness of rebuild-new-tenant") == true)
        let findings = try #require(document["readiness"]?["findings"]?.arrayValue)
        let kinds = findings.compactMap { $0["kind"]?.stringValue }
        #expect(Set(kinds).count == kinds.count)
        #expect(
            findings.contains {
                $0["kind"]?.stringValue == "clientSecrets" && $0["severity"]?.stringValue == "warning"
                    && $0["fix"]?.stringValue?.isEmpty == false
            })
        let passwords = try #require(findings.first { $0["kind"]?.stringValue == "passwordsNotKept" })
        #expect(passwords["objectCount"]?.numberValue == 38)
        #expect(passwords["objects"]?.arrayValue?.count == 20)

        let html = try await runLifeboat(
            ["report", "--state", state, "--format", "html", "--out", directory.path("report.html")], in: directory)
        #expect(html.status == 0, "\(html.stderr)")
        let page = try String(contentsOfFile: directory.path("report.html"), encoding: .utf8)
        #expect(page.contains("process ended without a stop record (killed or crashed)"))
        #expect(page.contains("interrupted: process ended without a stop record"))
        #expect(page.contains("⚡ interrupted"))
        #expect(page.contains("<section id=\"readiness\">") && page.contains("[clientSecrets]"))
    }

    @Test func tabletopWritesTheReportNamedByReport() async throws {
        let directory = try TemporaryDirectory("report-tabletop")
        let run = try await runTabletop(state: directory.path("s.sqlite"), in: directory, ["--report", directory.path("out/report.md")])
        #expect(run.status == 0, "\(run.stderr)")
        let markdown = try String(contentsOfFile: directory.path("out/report.md"), encoding: .utf8)
        #expect(markdown.hasPrefix("# Post-incident report: rebuild-new-tenant (tabletop)"))
        #expect(markdown.contains("## Chain of custody"))
        #expect(markdown.contains("## Verification"))
        #expect(!markdown.contains("No verify stage in this run"))

        let paused = try await runTabletop(
            state: directory.path("p.sqlite"), in: directory, ["--pause-at-gates", "--report", directory.path("paused.json")])
        #expect(paused.status == 3)
        let document = try JSONCoding.decode(Data(contentsOf: URL(fileURLWithPath: directory.path("paused.json"))))
        #expect(document["run"]?["outcome"]?.stringValue == "paused-at-gate")
    }

    @Test func aMissingOrEmptyStateIsInvalidInput() async throws {
        let directory = try TemporaryDirectory("report-bad")
        let missing = try await runLifeboat(["report", "--state", directory.path("nope.sqlite")], in: directory)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("does not exist"))
        _ = FileManager.default.createFile(atPath: directory.path("empty.sqlite"), contents: nil)
        let empty = try await runLifeboat(["report", "--state", directory.path("empty.sqlite"), "--format", "html"], in: directory)
        #expect(empty.status == 2)
        // An empty file is not a checkpoint, and a read-only command leaves it empty (issue 15).
        #expect(empty.stderr.contains("is not a Lifeboat checkpoint: it is empty"), "\(empty.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("empty.sqlite"))).isEmpty)
        let badFormat = try await runLifeboat(["report", "--state", directory.path("empty.sqlite"), "--format", "pdf"], in: directory)
        #expect(badFormat.status == 64)
    }
}

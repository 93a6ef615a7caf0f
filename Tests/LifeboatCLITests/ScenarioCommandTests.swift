import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat tabletop --scenario`, the facilitated gate prompt and what-if runs, with the real binary.
@Suite struct ScenarioCommandTests {
    static let rebuild = Fixtures.runbook("rebuild-new-tenant.yaml").path

    func write(_ text: String, _ name: String, in directory: TemporaryDirectory) throws -> String {
        try text.write(toFile: directory.path(name), atomically: true, encoding: .utf8)
        return directory.path(name)
    }

    func report(_ directory: TemporaryDirectory, state: String) async throws -> JSONValue {
        let result = try await runLifeboat(["report", "--state", directory.path(state), "--format", "json"], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONCoding.decode(Data(result.stdout.utf8))
    }

    @Test func aKillDuringUsersCreateResumesConvergesAndShowsOnTheTimeline() async throws {
        let directory = try TemporaryDirectory("scenario-kill")
        let scenario = try write(
            """
            lifeboat: 1
            name: laptop-dies
            runbook: \(Self.rebuild)
            snapshot: \(Fixtures.contoso.path)
            profile: fast
            events:
              - { name: laptop dies, do: kill, stage: users, at: 40%, downtime: 30m }
            """, "laptop-dies.yaml", in: directory)
        let reference = try await runTabletop(state: directory.path("reference.sqlite"), in: directory, ["--profile", "fast"])
        #expect(reference.status == 0, "\(reference.stderr)")

        let killed = try await runLifeboat(["tabletop", "--scenario", scenario, "--state", directory.path("drill.sqlite")], in: directory)
        #expect(
            killed.killedBySignal && killed.status == SIGKILL, "expected SIGKILL, got \(killed.status): \(killed.stdout)\n\(killed.stderr)")
        #expect(killed.stderr.contains("the operator's machine dies now"))

        // The same command resumes (the kill does not fire twice), and the scenario's downtime passes.
        let resumed = try await runLifeboat(
            [
                "tabletop", "--scenario", scenario, "--state", directory.path("drill.sqlite"), "--report",
                directory.path("drill.md"),
            ], in: directory)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(resumed.stdout.contains("RTO estimate:"))

        let expected = await TenantPicture.of(try FakeTenant(stateFile: directory.path("reference.sqlite.fake-tenant.sqlite")))
        let actual = await TenantPicture.of(try FakeTenant(stateFile: directory.path("drill.sqlite.fake-tenant.sqlite")))
        #expect(actual.duplicates.isEmpty)
        #expect(actual == expected, "\(actual.differences(from: expected))")

        let document = try await report(directory, state: "drill.sqlite")
        #expect(document["run"]?["status"]?.stringValue == "done")
        let interruptions = try #require(document["timeline"]?["interruptions"]?.arrayValue)
        #expect(interruptions.count == 1)
        #expect(interruptions.first?["stage"]?.stringValue == "users")
        #expect(interruptions.first?["cause"]?.stringValue == "process-ended")
        #expect(document["custody"]?["sessions"]?.arrayValue?.map { $0["kind"]?.stringValue } == ["started", "resumed"])
        #expect(document["estimate"]?["waits"]?["interruption"]?.numberValue == 1_800)
        let markdown = try String(contentsOfFile: directory.path("drill.md"), encoding: .utf8)
        #expect(markdown.contains("## RTO estimate"))
        #expect(markdown.contains("process ended without a stop record"))

        // The injection and the recovery are in the event log.
        let status = try await runLifeboat(["status", "--state", directory.path("drill.sqlite"), "--json"], in: directory)
        #expect(status.status == 0)
        let events = try await CheckpointStore(path: directory.path("drill.sqlite")).events()
        #expect(events.contains { $0.kind == "scenario.injected" && $0.stageID == "users" && $0.message.contains("laptop dies") })
        #expect(events.contains { $0.kind == "scenario.recovered" && $0.message.contains("30m") })
        #expect(events.filter { $0.kind == "scenario.injected" }.count == 1)
    }

    @Test func gateDecisionsAtThePromptAreRecorded() async throws {
        let directory = try TemporaryDirectory("prompt")
        // create-tenant: skip 30 minutes ahead, then Grace approves; security-defaults (issue 13: Security Defaults go off behind
        // a gate): approve; enable-ca: inject a storm, then approve as the operator.
        let input = "s 30m\na Grace Hopper\na\nf\n1\na\n"
        let result = try await runTabletop(
            state: directory.path("drill.sqlite"), in: directory,
            ["--profile", "fast", "--pause-at-gates", "--prompt-from-stdin", "--operator-name", "Ada"], input: input)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("⏸ Gate create-tenant"))
        let events = try await CheckpointStore(path: directory.path("drill.sqlite")).events()
        let decisions = events.filter { $0.kind == "gate.decision" }
        #expect(decisions.map(\.stageID) == ["create-tenant", "create-tenant", "security-defaults", "enable-ca"])
        #expect(decisions[0].message == "Ada skipped the clock ahead by 30m 00s")
        #expect(
            decisions[1].message.hasPrefix("Grace Hopper approved the gate after 2h 00m") && decisions[1].message.contains("entered by Ada")
        )
        #expect(decisions[2].message.hasPrefix("Ada approved the gate"))
        #expect(decisions[3].message.hasPrefix("Ada approved the gate"))
        #expect(decisions.allSatisfy { $0.simulatedSeconds != nil && !$0.at.isEmpty })
        // 30 minutes skipped plus the gate's two hours: the simulated clock moved before the approval.
        #expect((decisions[1].simulatedSeconds ?? 0) >= 2.5 * 3_600)
        #expect(events.contains { $0.kind == "scenario.injected" && $0.stageID == "enable-ca" && $0.message.contains("injected by Ada") })
        let document = try await report(directory, state: "drill.sqlite")
        let gates = try #require(document["custody"]?["gates"]?.arrayValue)
        #expect(gates.first { $0["stage"]?.stringValue == "create-tenant" }?["decidedBy"]?.stringValue == "Grace Hopper")
        // 30m skipped + create-tenant 2h + security-defaults 10m + enable-ca 1h
        #expect(document["estimate"]?["waits"]?["people"]?.numberValue == 13_200.0)
    }

    @Test func withoutATerminalTheGatePausesAsBefore() async throws {
        let directory = try TemporaryDirectory("no-tty")
        let result = try await runTabletop(state: directory.path("drill.sqlite"), in: directory, ["--profile", "fast", "--pause-at-gates"])
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("lifeboat approve"))
    }

    @Test func aBadScenarioIsRefusedWithItsLine() async throws {
        let directory = try TemporaryDirectory("bad-scenario")
        let scenario = try write(
            """
            lifeboat: 1
            runbook: \(Self.rebuild)
            snapshot: \(Fixtures.contoso.path)
            events:
              - do: throttling-storm
                at: lunchtime
                for: 30m
              - do: kill
                stage: userz
            """, "bad.yaml", in: directory)
        let result = try await runLifeboat(["tabletop", "--scenario", scenario, "--state", directory.path("drill.sqlite")], in: directory)
        #expect(result.status == 2)
        #expect(result.stderr.contains("bad.yaml:6: events[0].at:"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("drill.sqlite.fake-tenant.sqlite")))

        let wrongStage = try write(
            """
            lifeboat: 1
            runbook: \(Self.rebuild)
            snapshot: \(Fixtures.contoso.path)
            events:
              - do: kill
                stage: userz
            """, "stage.yaml", in: directory)
        let refused = try await runLifeboat(
            ["tabletop", "--scenario", wrongStage, "--state", directory.path("stage.sqlite")], in: directory)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("stage.yaml:5: events[0].stage: the runbook has no stage `userz`"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("stage.sqlite.fake-tenant.sqlite")))
    }

    @Test func theInPlaceScenarioRecreatesThePurgedAdmin() async throws {
        let directory = try TemporaryDirectory("in-place")
        let result = try await runLifeboat(
            [
                "tabletop", "--scenario", Fixtures.runbook("scenarios/mass-deletion-in-place.yaml").path, "--state",
                directory.path("drill.sqlite"), "--profile", "fast",
            ], in: directory)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let tenant = try FakeTenant(stateFile: directory.path("drill.sqlite.fake-tenant.sqlite"))
        let users = await tenant.objects(ofType: "user")
        let admin = try #require(users.first { $0["userPrincipalName"]?.stringValue == "adm-aisha.bello@contoso.com" })
        let entries = try await CheckpointStore(path: directory.path("drill.sqlite")).idMapEntries()
        let row = try #require(entries.first { $0.naturalKey?.lowercased() == "adm-aisha.bello@contoso.com" })
        #expect(row.how == .created && row.newID == admin["id"]?.stringValue)
        #expect(entries.contains { $0.how == .restored })
        let events = try await CheckpointStore(path: directory.path("drill.sqlite")).events()
        #expect(events.filter { $0.kind == "scenario.injected" }.map(\.operationKey) == ["scenario:0", "scenario:1"])
    }

    @Test func whatIfPrintsHowTheRecoveryTimeGrows() async throws {
        let directory = try TemporaryDirectory("what-if-cli")
        let result = try await runTabletop(
            state: directory.path("drill.sqlite"), in: directory, ["--profile", "fast", "--scale", "3x", "--apps", "2"])
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("What-if: how the recovery time grows"))
        let rows = result.stdout.split(separator: "\n").filter { $0.hasPrefix("  1x") || $0.hasPrefix("  3x") }
        #expect(rows.count == 4, "\(result.stdout)")
        #expect(FileManager.default.fileExists(atPath: directory.path("drill.sqlite.what-if/3x-2apps.sqlite")))
    }
}

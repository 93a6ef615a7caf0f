import Foundation
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// Runs the real `lifeboat` binary, kills it with SIGKILL at chosen points, and resumes.
@Suite struct CrashResumeTests {
    func picture(_ directory: TemporaryDirectory, state: String) async throws -> TenantPicture {
        await TenantPicture.of(try FakeTenant(stateFile: directory.path(state + ".fake-tenant.sqlite")))
    }

    static let crashPoints = [
        "intent:5@users",  // intents committed, nothing sent
        "response:7@users",  // writes applied by the tenant, results not recorded
        "response:1@guests",
        "response:3@groups",
        "response:4@members",
        "response:2@owners",
        "result:32@users",  // one window recorded, the next not started
        "response:2@apps",
        "intent:1@link-apps",
        "response:2@service-principals",
        "response:3@app-role-assignments",
        "response:1@consents",
    ]

    @Test(arguments: crashPoints)
    func killedAndResumedConvergesToTheUninterruptedResult(_ point: String) async throws {
        let directory = try TemporaryDirectory("crash")
        let reference = try await runTabletop(state: directory.path("reference.sqlite"), in: directory)
        #expect(reference.status == 0, "\(reference.stderr)")

        let killed = try await runTabletop(state: directory.path("drill.sqlite"), in: directory, ["--simulate-crash", point])
        #expect(killed.killedBySignal && killed.status == SIGKILL, "expected SIGKILL, got \(killed.status): \(killed.stderr)")

        let resumed = try await runLifeboat(["resume", "--state", directory.path("drill.sqlite")], in: directory)
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")

        let expected = try await picture(directory, state: "reference.sqlite")
        let actual = try await picture(directory, state: "drill.sqlite")
        #expect(actual.duplicates.isEmpty)
        #expect(actual == expected, "\(actual) vs \(expected)")

        // The ID map is complete: one row per restored object, as in the uninterrupted run.
        let idMap = try await runLifeboat(["idmap", "--state", directory.path("drill.sqlite"), "--format", "json"], in: directory)
        let referenceMap = try await runLifeboat(
            ["idmap", "--state", directory.path("reference.sqlite"), "--format", "json"], in: directory)
        let rows = try #require(try JSONCoding.decode(Data(idMap.stdout.utf8)).arrayValue)
        let referenceRows = try #require(try JSONCoding.decode(Data(referenceMap.stdout.utf8)).arrayValue)
        #expect(rows.count == referenceRows.count)
        #expect(Set(rows.compactMap { $0["oldId"]?.stringValue }).count == rows.count)
        #expect(Set(rows.compactMap { $0["oldId"]?.stringValue }) == Set(referenceRows.compactMap { $0["oldId"]?.stringValue }))

        // The interruption is on record.
        let status = try await runLifeboat(["status", "--state", directory.path("drill.sqlite"), "--json"], in: directory)
        #expect(try JSONCoding.decode(Data(status.stdout.utf8))["run"]?["status"]?.stringValue == "done")
        let again = try await runLifeboat(["resume", "--state", directory.path("drill.sqlite")], in: directory)
        #expect(again.status == 0)
        #expect(again.stdout.contains("already complete"))
    }
}

/// Bad input: a clear error, exit code 2, and nothing reaches the target (its state file is never created).
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var runbook: String?
    var alterSnapshot: (@Sendable (URL) throws -> Void)?
    var mentions: String
    var testDescription: String { name }

    static let all: [BadInput] = [
        BadInput(name: "malformed YAML", runbook: "name: x\nstages:\n  - id: a\n    kind: [users.create\n", mentions: "malformed YAML"),
        BadInput(
            name: "cycle",
            runbook: """
                name: x
                stages:
                  - { id: a, kind: groups.create, after: [b] }
                  - { id: b, kind: groups.members, after: [a] }
                """, mentions: "cycle"),
        BadInput(
            name: "unknown stage kind", runbook: "name: x\nstages:\n  - id: a\n    kind: tenant.nuke\n", mentions: "unknown stage kind"),
        BadInput(
            name: "missing parameter",
            runbook: """
                name: x
                parameters:
                  recoveryDomain:
                    description: where UPNs go
                stages:
                  - id: users
                    kind: users.create
                    options:
                      upnDomainMap: { contoso.com: "${recoveryDomain}" }
                """, mentions: "recoveryDomain"),
        BadInput(
            name: "unmappable initial domain", runbook: "name: x\nstages:\n  - id: users\n    kind: users.create\n",
            mentions: "contoso.onmicrosoft.com"),
        BadInput(
            name: "snapshot hash mismatch",
            alterSnapshot: { url in
                let file = url.appendingPathComponent("groups.json")
                try (try Data(contentsOf: file) + Data(" ".utf8)).write(to: file)
            }, mentions: "SHA-256"),
        BadInput(
            name: "truncated JSON",
            alterSnapshot: { url in
                try Fixtures.rewrite("users.json", in: url) { $0.prefix(500) }
            }, mentions: "not valid JSON"),
    ]
}

@Suite struct BadInputTests {
    @Test(arguments: BadInput.all)
    func refusedBeforeAnyWrite(_ input: BadInput) async throws {
        let directory = try TemporaryDirectory("bad")
        var runbook = Fixtures.runbook("rebuild-new-tenant.yaml").path
        if let text = input.runbook {
            runbook = directory.path("runbook.yaml")
            try text.write(toFile: runbook, atomically: true, encoding: .utf8)
        }
        var snapshot = Fixtures.contoso
        if let alter = input.alterSnapshot {
            snapshot = try Fixtures.copyContoso(into: directory)
            try alter(snapshot)
        }
        let result = try await runTabletop(state: directory.path("s.sqlite"), in: directory, runbook: runbook, snapshot: snapshot.path)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains(input.mentions), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("s.sqlite.fake-tenant.sqlite")))
    }

    @Test func runbookErrorsNameFileAndLine() async throws {
        let directory = try TemporaryDirectory("line")
        try "name: x\nstages:\n  - id: a\n    kind: users.creat\n".write(
            toFile: directory.path("r.yaml"), atomically: true, encoding: .utf8)
        let result = try await runLifeboat(
            ["plan", "--runbook", directory.path("r.yaml"), "--snapshot", Fixtures.contoso.path], in: directory)
        #expect(result.status == 2)
        #expect(
            result.stderr.contains("r.yaml:4: stages[0] (a).kind: unknown stage kind `users.creat` — did you mean `users.create`?"),
            "\(result.stderr)")
    }
}

@Suite struct CommandTests {
    @Test func pausedAtAGateExitsWithThreeAndContinuesAfterApproval() async throws {
        let directory = try TemporaryDirectory("gate")
        let runbook = Fixtures.runbook("rebuild-new-tenant.yaml").path
        let paused = try await runTabletop(state: directory.path("s.sqlite"), in: directory, runbook: runbook, ["--pause-at-gates"])
        #expect(paused.status == 3, "\(paused.stderr)")
        #expect(paused.stdout.contains("lifeboat approve"))
        let early = try await runLifeboat(["resume", "--state", directory.path("s.sqlite")], in: directory)
        #expect(early.status == 3)
        let approve = try await runLifeboat(
            [
                "approve", "--state", directory.path("s.sqlite"), "--gate", "create-tenant", "--by", "Grace Hopper",
                "--note", "tenant contosodr created",
            ], in: directory)
        #expect(approve.status == 0, "\(approve.stderr)")
        // The run goes on until the next gate: turning Security Defaults off (issue 13), then enabling Conditional Access,
        // each need their own approval.
        let security = try await runLifeboat(["resume", "--state", directory.path("s.sqlite")], in: directory)
        #expect(security.status == 3, "\(security.stderr)")
        #expect(security.stdout.contains("--gate security-defaults"))
        _ = try await runLifeboat(
            ["approve", "--state", directory.path("s.sqlite"), "--gate", "security-defaults", "--by", "Grace Hopper"], in: directory)
        let second = try await runLifeboat(["resume", "--state", directory.path("s.sqlite")], in: directory)
        #expect(second.status == 3, "\(second.stderr)")
        #expect(second.stdout.contains("--gate enable-ca"))
        _ = try await runLifeboat(
            ["approve", "--state", directory.path("s.sqlite"), "--gate", "enable-ca", "--by", "Grace Hopper"], in: directory)
        let resumed = try await runLifeboat(["resume", "--state", directory.path("s.sqlite")], in: directory)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let status = try await runLifeboat(["status", "--state", directory.path("s.sqlite")], in: directory)
        #expect(status.stdout.contains("approved by Grace Hopper"))
    }

    @Test func planListsStagesCountsAndGates() async throws {
        let directory = try TemporaryDirectory("plan")
        let result = try await runLifeboat(
            ["plan", "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", Fixtures.contoso.path],
            in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(
            result.stdout.contains(
                "users [users.create] Recreate member users on the recovery domain: 38 operations, 1 skipped with follow-ups"))
        #expect(result.stdout.contains("gate: Create a new workforce tenant"))
        #expect(result.stdout.contains("Recovery-time objective: 8h 00m"))
    }

    @Test func idmapListsOneRowPerRestoredObject() async throws {
        let directory = try TemporaryDirectory("idmap")
        let run = try await runTabletop(state: directory.path("s.sqlite"), in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        let csv = try await runLifeboat(["idmap", "--state", directory.path("s.sqlite"), "--format", "csv"], in: directory)
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "type,oldId,newId,naturalKey,displayName,how,oldAppId,newAppId,stage")
        // 38 members + 1 guest, 14 groups, 3 apps, 4 enterprise apps, 7 assignments, 2 grants, 2 domains, 2 admin units,
        // 5 roles (4 built-in mapped by template id), 2 named locations, 4 policies.
        let restored: Int = 39 + 14 + 3 + 4 + 7 + 2 + 2 + 2 + 5 + 2 + 4
        #expect(lines.count == 1 + restored)
        // Everything was created, except what every tenant has: Microsoft Graph's service principal and the built-in roles, adopted.
        #expect(
            lines.dropFirst().allSatisfy {
                $0.contains(",created,") || ($0.hasPrefix("servicePrincipal,") && $0.contains("Microsoft Graph,adopted,"))
                    || ($0.hasPrefix("roleDefinition,") && $0.contains(",adopted,"))
            })
        #expect(lines.contains { $0.hasPrefix("user,") && $0.contains("@contosodr.onmicrosoft.com") })
    }
}

import Foundation
import LifeboatEngine
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// A runbook that must be refused, the line the error must point at and a word it must contain.
struct HostileRunbook: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var line: Int
    var mentions: String
    var testDescription: String { name }

    static let all: [HostileRunbook] = [
        HostileRunbook(
            name: "malformed YAML",
            yaml: """
                name: broken
                stages:
                  - id: users
                    kind: users.create
                   title: [unclosed
                """, line: 5, mentions: "malformed YAML"),
        HostileRunbook(
            name: "unknown stage kind",
            yaml: """
                name: typo
                stages:
                  - id: users
                    kind: users.creat
                """, line: 4, mentions: "did you mean `users.create`"),
        HostileRunbook(
            name: "unknown option",
            yaml: """
                name: option
                stages:
                  - id: users
                    kind: users.create
                    options:
                      upnDomainMapp: {}
                """, line: 6, mentions: "upnDomainMap"),
        HostileRunbook(
            name: "missing parameter",
            yaml: """
                name: parameter
                stages:
                  - id: users
                    kind: users.create
                    options:
                      upnDomainMap:
                        contoso.com: ${recoveryDomain}
                """, line: 7, mentions: "recoveryDomain"),
        HostileRunbook(
            name: "cycle",
            yaml: """
                name: cycle
                stages:
                  - id: a
                    kind: groups.create
                    after: [c]
                  - id: b
                    kind: groups.members
                    after: [a]
                  - id: c
                    kind: groups.owners
                    after: [b]
                """, line: 3, mentions: "cycle"),
        HostileRunbook(
            name: "unknown after target",
            yaml: """
                name: after
                stages:
                  - id: groups
                    kind: groups.create
                  - id: members
                    kind: groups.members
                    after: [grops]
                """, line: 5, mentions: "did you mean `groups`"),
        HostileRunbook(
            name: "duplicate stage id",
            yaml: """
                name: duplicate
                stages:
                  - id: groups
                    kind: groups.create
                  - id: groups
                    kind: groups.members
                """, line: 5, mentions: "duplicate"),
        HostileRunbook(
            name: "bad duration",
            yaml: """
                name: duration
                objective: soon
                stages:
                  - id: groups
                    kind: groups.create
                """, line: 2, mentions: "duration"),
        HostileRunbook(
            name: "required option missing",
            yaml: """
                name: required
                stages:
                  - id: export
                    kind: idmap.export
                """, line: 3, mentions: "required"),
        HostileRunbook(
            name: "wrong option type",
            yaml: """
                name: types
                stages:
                  - id: guests
                    kind: guests.invite
                    options:
                      sendInvitationMessage: perhaps
                """, line: 6, mentions: "true or false"),
        HostileRunbook(
            name: "unknown top-level field",
            yaml: """
                name: extra
                stage:
                  - id: groups
                    kind: groups.create
                """, line: 2, mentions: "unknown runbook field"),
    ]
}

@Suite struct RunbookValidationTests {
    @Test(arguments: HostileRunbook.all)
    func rejectsWithLocation(_ hostile: HostileRunbook) throws {
        let errors = try #require(throws: RunbookErrors.self) {
            try Runbook.parse(hostile.yaml, file: "\(hostile.name).yaml", catalog: StageCatalog.specs)
        }
        let first = try #require(errors.errors.first)
        #expect(first.file == "\(hostile.name).yaml")
        #expect(first.line == hostile.line, "\(errors)")
        #expect(errors.description.contains(hostile.mentions), "\(errors)")
    }

    @Test func ordersStagesByAfterAndDefaultsToThePreviousStage() throws {
        let runbook = try Runbook.parse(
            """
            name: order
            stages:
              - id: members
                kind: groups.members
                after: [groups, users]
              - id: users
                kind: users.create
                after: []
              - id: groups
                kind: groups.create
              - id: export
                kind: idmap.export
                options: { path: out.csv }
            """, file: "order.yaml", catalog: StageCatalog.specs)
        #expect(runbook.stages.map(\.id) == ["users", "groups", "members", "export"])
        #expect(runbook.stage("groups")?.after == ["users"])
        #expect(runbook.stage("export")?.after == ["groups"])
    }

    @Test func substitutesParametersDefaultsAndBuiltins() throws {
        let runbook = try Runbook.parse(
            """
            name: params
            objective: 1d12h
            parameters:
              recoveryDomain:
                default: ${target.initialDomain}
              note: plain default
            stages:
              - id: gate
                kind: manual
                estimatedDuration: 90m
                gate:
                  instructions: Create ${target.initialDomain}; ${note}
              - id: users
                kind: users.create
                options:
                  upnDomainMap:
                    contoso.com: ${recoveryDomain}
            """, file: "params.yaml", catalog: StageCatalog.specs, parameters: ["note": "given"],
            builtins: ["target.initialDomain": "drill.onmicrosoft.com"])
        #expect(runbook.objective == Double(129_600))
        #expect(runbook.stage("gate")?.estimatedDuration == Double(5_400))
        #expect(runbook.stage("gate")?.gate?.instructions == "Create drill.onmicrosoft.com; given")
        #expect(runbook.stage("users")?.options.stringMap("upnDomainMap") == ["contoso.com": "drill.onmicrosoft.com"])
        #expect(runbook.sha256.count == 64)
    }

    @Test func refusesParametersTheRunbookDoesNotDeclare() throws {
        let errors = try #require(throws: RunbookErrors.self) {
            try Runbook.parse(
                "name: p\nstages:\n  - id: g\n    kind: groups.create\n", file: "p.yaml", catalog: StageCatalog.specs,
                parameters: ["typo": "x"])
        }
        #expect(errors.description.contains("typo"))
    }

    @Test func shippedRunbooksAreValidForTheExample() throws {
        let snapshot = try LifeboatSnapshot.Snapshot.load(from: Fixtures.contoso)
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Runbooks").path)
        where name.hasSuffix(".yaml") {
            let runbook = try Runbook.load(
                contentsOf: Fixtures.runbook(name), catalog: StageCatalog.specs, fileParameters: Fixtures.contosoParameters,
                builtins: [
                    "target.initialDomain": "drill.onmicrosoft.com", "target.tenantId": "t",
                    "snapshot.initialDomain": "contoso.onmicrosoft.com", "snapshot.sourceTenantId": "s",
                ])
            _ = try Executor.prepare(runbook, snapshot: snapshot)
        }
    }
}

@Suite struct StageOrderScaleTests {
    /// 8,000 stages declared last-first, each after the one declared below it: the worst case of picking the first
    /// ready stage by scanning (2.7 s before; now linear-logarithmic). Checked for order, not timed.
    @Test func eightThousandChainedStagesOrderFromTheDependencies() throws {
        let count = 8_000
        var yaml = "name: long\nstages:\n"
        for index in stride(from: count - 1, through: 0, by: -1) {
            yaml += "  - id: s\(index)\n    kind: verify\n" + (index > 0 ? "    after: [s\(index - 1)]\n" : "    after: []\n")
        }
        let runbook = try Runbook.parse(yaml, file: "long.yaml", catalog: StageCatalog.specs)
        #expect(runbook.stages.map(\.id) == (0..<count).map { "s\($0)" })
    }

    @Test func independentStagesKeepTheirFileOrder() throws {
        let yaml =
            "name: flat\nstages:\n  - { id: c, kind: verify }\n  - { id: a, kind: verify, after: [c] }\n  - { id: b, kind: verify }\n"
        let runbook = try Runbook.parse(yaml, file: "flat.yaml", catalog: StageCatalog.specs)
        #expect(runbook.stages.map(\.id) == ["c", "a", "b"])
    }
}

import Foundation
import LifeboatEngine
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTabletop
import LifeboatTestSupport
import Testing

/// A scenario with something wrong: where the error must point.
struct BadScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var line: Int
    var field: String
    var testDescription: String { name }

    static let head = "lifeboat: 1\nrunbook: \(Fixtures.runbook("tabletop-ransomware.yaml").path)\nsnapshot: \(Fixtures.contoso.path)\n"

    static let all: [BadScenario] = [
        BadScenario(name: "unknown top-level field", yaml: head + "profil: chaos\n", line: 4, field: "profil"),
        BadScenario(name: "missing runbook", yaml: "lifeboat: 1\nsnapshot: \(Fixtures.contoso.path)\n", line: 1, field: "runbook"),
        BadScenario(
            name: "runbook that does not exist", yaml: "lifeboat: 1\nrunbook: nowhere.yaml\nsnapshot: \(Fixtures.contoso.path)\n", line: 2,
            field: "runbook"),
        BadScenario(name: "snapshot and tenant", yaml: head + "tenant: { users: 100 }\n", line: 4, field: "tenant"),
        BadScenario(
            name: "generated tenant too small",
            yaml: "lifeboat: 1\nrunbook: \(Fixtures.runbook("rebuild-new-tenant.yaml").path)\ntenant:\n  users: 5\n",
            line: 4, field: "tenant.users"),
        BadScenario(
            name: "gate duration that is not one", yaml: head + "gates:\n  create-tenant: soon\n", line: 5, field: "gates.create-tenant"),
        BadScenario(name: "event without do", yaml: head + "events:\n  - at: 40%\n", line: 5, field: "events[0].do"),
        BadScenario(name: "unknown event", yaml: head + "events:\n  - do: meteor\n    at: 1h\n", line: 5, field: "events[0].do"),
        BadScenario(
            name: "storm with a bad moment", yaml: head + "events:\n  - do: throttling-storm\n    for: 30m\n    at: lunchtime\n",
            line: 7, field: "events[0].at"),
        BadScenario(
            name: "storm without a length", yaml: head + "events:\n  - do: throttling-storm\n    at: 40%\n", line: 5, field: "events[0].for"
        ),
        BadScenario(
            name: "storm quota over 100%", yaml: head + "events:\n  - do: throttling-storm\n    at: 2h\n    for: 10m\n    quota: 150%\n",
            line: 8, field: "events[0].quota"),
        BadScenario(name: "kill without a stage", yaml: head + "events:\n  - do: kill\n    at: 50%\n", line: 5, field: "events[0].stage"),
        BadScenario(
            name: "kill at a time", yaml: head + "events:\n  - do: kill\n    stage: users\n    at: 2h\n", line: 6, field: "events[0].stage"),
        BadScenario(
            name: "field another event takes", yaml: head + "events:\n  - do: publish-dns\n    at: 6h\n    downtime: 1h\n",
            line: 7, field: "events[0].downtime"),
        BadScenario(
            name: "purge without in-place", yaml: head + "events:\n  - do: purge\n    objects: [adm-aisha.bello@contoso.com]\n",
            line: 5, field: "events[0].do"),
        BadScenario(name: "malformed YAML", yaml: head + "events:\n  - do: [kill\n", line: 6, field: "yaml"),
    ]
}

@Suite struct ScenarioParsingTests {
    static let builtins = [
        "target.initialDomain": "x.onmicrosoft.com", "target.tenantId": "t", "snapshot.sourceTenantId": "s",
        "snapshot.initialDomain": "contoso.onmicrosoft.com",
    ]
    static let shipped = ["ransomware-chaos.yaml", "mass-deletion-in-place.yaml", "large-generated.yaml"]

    @Test(arguments: shipped)
    func shippedScenariosAreValidAgainstTheirRunbooks(_ name: String) throws {
        let scenario = try TabletopScenario.load(contentsOf: Fixtures.runbook("scenarios/\(name)"))
        let runbook = try Runbook.load(
            contentsOf: URL(fileURLWithPath: scenario.runbookPath), catalog: StageCatalog.specs, parameters: scenario.parameters,
            fileParameters: Fixtures.contosoParameters,
            builtins: Self.builtins)
        try scenario.validate(against: runbook)
        if case .snapshot(let path) = scenario.source {
            try scenario.validate(against: try Snapshot.load(from: URL(fileURLWithPath: path)))
        }
    }

    @Test func theRansomwareScenarioSaysWhatHappensWhen() throws {
        let scenario = try TabletopScenario.load(contentsOf: Fixtures.runbook("scenarios/ransomware-chaos.yaml"))
        #expect(scenario.profile == "chaos")
        #expect(scenario.target == .newTenant)
        #expect(scenario.gateDurations["create-tenant"] == 14_400.0)
        #expect(scenario.events.map(\.trigger) == [.progress(0.4, stage: nil), .progress(0.5, stage: "users"), .time(6 * 3_600)])
        #expect(scenario.events[0].action == .throttlingStorm(share: 0.25, duration: 1_800))
        #expect(scenario.events[1].action == .kill(stage: "users", share: 0.5, downtime: 2_700))
        #expect(scenario.events[2].action == .publishDNS(domains: nil))
        #expect(scenario.runbookPath.hasSuffix("Runbooks/tabletop-ransomware.yaml"))
    }

    @Test func theInPlaceScenarioPurgesTheAdminBeforeTheMassDeletion() throws {
        let scenario = try TabletopScenario.load(contentsOf: Fixtures.runbook("scenarios/mass-deletion-in-place.yaml"))
        #expect(scenario.target == .inPlace)
        #expect(
            scenario.events.map(\.action) == [
                .delete(objects: .named(["adm-aisha.bello@contoso.com"]), purge: true, daysAgo: 0),
                .delete(objects: .collections(TabletopScenario.deletableCollections), purge: false, daysAgo: 2),
            ])
        #expect(scenario.events.allSatisfy { $0.trigger == .start })
    }

    @Test func theLargeScenarioGeneratesItsTenant() throws {
        let scenario = try TabletopScenario.load(contentsOf: Fixtures.runbook("scenarios/large-generated.yaml"))
        guard case .generated(let options) = scenario.source else { Issue.record("expected a generated tenant"); return }
        #expect(options.users == 50_000 && options.seed == 42)
    }

    @Test(arguments: BadScenario.all)
    func rejectsWithFileLineAndField(_ bad: BadScenario) throws {
        let errors = try #require(throws: RunbookErrors.self) { try TabletopScenario.parse(bad.yaml, file: "/drill/bad.yaml") }
        let error = try #require(errors.errors.first { $0.field == bad.field }, "\(errors)")
        #expect(error.line == bad.line, "\(errors)")
        #expect(error.file == "/drill/bad.yaml")
        #expect(error.description.hasPrefix("/drill/bad.yaml:\(bad.line): \(bad.field): "))
    }

    @Test func everyProblemIsReportedAtOnce() throws {
        let yaml = BadScenario.head + "gates:\n  create-tenant: soon\nevents:\n  - do: kill\n  - do: meteor\n"
        let errors = try #require(throws: RunbookErrors.self) { try TabletopScenario.parse(yaml, file: "s.yaml") }
        #expect(Set(errors.errors.map(\.field)) == ["gates.create-tenant", "events[0].stage", "events[1].do"])
    }

    @Test func stagesAndObjectsAreCheckedAgainstTheRunbookAndTheSnapshot() throws {
        let yaml =
            BadScenario.head + """
                target: in-place
                gates:
                  users: 1h
                  create-tenant: 2h
                  nope: 1h
                events:
                  - do: kill
                    stage: userz
                  - do: purge
                    objects: [nobody@contoso.com]
                """
        let scenario = try TabletopScenario.parse(yaml, file: "s.yaml")
        let runbook = try Runbook.load(
            contentsOf: Fixtures.runbook("tabletop-ransomware.yaml"), catalog: StageCatalog.specs,
            fileParameters: Fixtures.contosoParameters, builtins: Self.builtins)
        let stageErrors = try #require(throws: RunbookErrors.self) { try scenario.validate(against: runbook) }
        #expect(stageErrors.errors.map(\.field).sorted() == ["events[0].stage", "gates.nope", "gates.users"])
        #expect(stageErrors.errors.first { $0.field == "gates.users" }?.problem.contains("has no gate") == true)
        #expect(stageErrors.errors.first { $0.field == "events[0].stage" }?.line == 10)
        let objectErrors = try #require(throws: RunbookErrors.self) {
            try scenario.validate(against: try Snapshot.load(from: Fixtures.contoso))
        }
        #expect(objectErrors.errors.map(\.field) == ["events[1].objects"])
        #expect(objectErrors.errors[0].line == 12)
    }
}

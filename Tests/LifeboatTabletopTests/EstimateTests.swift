import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTabletop
import LifeboatTestSupport
import Testing

/// Rehearsals in process: the estimate's numbers add up, throttling is measured, DNS waits pass, size and apps matter.
@Suite struct EstimateTests {
    static let rebuild = Fixtures.runbook("rebuild-new-tenant.yaml").path

    func rehearse(
        _ directory: TemporaryDirectory, _ name: String, profile: FakeTenantProfile, snapshot: String = Fixtures.contoso.path,
        runbook: String = Self.rebuild, scenario: TabletopScenario? = nil, apps: Int = 1
    ) async throws -> (Rehearsal.Result, RTOEstimate) {
        var rehearsal = Rehearsal(
            runbookPath: runbook, snapshotPath: snapshot, profile: profile, statePath: directory.path("\(name).sqlite"),
            operatorName: "tester")
        rehearsal.scenario = scenario
        rehearsal.apps = apps
        let result = try await rehearsal.run()
        #expect(result.outcome == .completed, "\(name): \(result.outcome)")
        return (result, try #require(result.estimate))
    }

    /// Graph's write quotas cut down so that a few thousand writes are throttled (the shipped profiles only bite at scale).
    static func tightProfile(_ directory: TemporaryDirectory) throws -> FakeTenantProfile {
        let path = directory.path("tight.yaml")
        try """
        name: tight
        seed: 3
        throttling:
          enabled: true
          resourceUnitsPer10s: 100000
          writesPerApp: 100
          writesPerTenant: 400
          conditionalAccessPerSecond: 1
          omitRetryAfterForConditionalAccess: false
          chargeThrottledRequests: false
        replicationLagSeconds: 0
        dnsRecordsPublishedAfterSeconds: 60
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return try FakeTenantProfile.named(path)
    }

    @Test func theEstimateAddsUpAndMeasuresThrottling() async throws {
        let directory = try TemporaryDirectory("estimate")
        let (_, realistic) = try await rehearse(directory, "realistic", profile: try FakeTenantProfile.named("realistic"))
        let (_, fast) = try await rehearse(directory, "fast", profile: .fast)
        let runbook = try Runbook.load(
            contentsOf: URL(fileURLWithPath: Self.rebuild), catalog: StageCatalog.specs, fileParameters: Fixtures.contosoParameters,
            builtins: [
                "target.initialDomain": "x.onmicrosoft.com", "target.tenantId": "t", "snapshot.sourceTenantId": "s",
                "snapshot.initialDomain": "contoso.onmicrosoft.com",
            ])
        let gateTime = runbook.stages.filter { $0.gate != nil }.compactMap(\.estimatedDuration).reduce(0, +)
        for estimate in [realistic, fast] {
            #expect(estimate.complete)
            // Stages run one after another: their sum is the run's time, and no path through `after:` is longer.
            #expect(abs(estimate.stageSumSeconds - estimate.totalSeconds) < 1, "\(estimate.stageSumSeconds) vs \(estimate.totalSeconds)")
            let criticalPath = try #require(estimate.criticalPathSeconds)
            #expect(criticalPath <= estimate.stageSumSeconds + 0.001)
            #expect(criticalPath >= (estimate.stages.map(\.seconds).max() ?? 0))
            #expect(estimate.criticalPath?.first == "create-tenant" && estimate.criticalPath?.last == "export-idmap")
            // Every simulated second is booked to a reason, and the gates' planned time is the people's share.
            #expect(estimate.unattributedSeconds < 1)
            #expect(estimate.waits.values.reduce(0, +) <= estimate.totalSeconds + 1)
            #expect(abs(estimate.seconds("people") - gateTime) < 0.001)
            #expect(estimate.verdict == (estimate.totalSeconds <= runbook.objective! ? .met : .missed))
        }
        #expect(realistic.seconds("throttling") > 0)
        #expect(fast.seconds("throttling") == 0)
        #expect(realistic.totalSeconds > fast.totalSeconds)
    }

    @Test func aLargerTenantTakesLongerAndMoreAppsShareTheQuota() async throws {
        let directory = try TemporaryDirectory("what-if")
        let profile = try Self.tightProfile(directory)
        let snapshot = try Snapshot.load(from: Fixtures.contoso)
        let scaled = try GeneratedSnapshot.ensure(
            GeneratedSnapshot.scaled(snapshot, by: 10), at: directory.url.appendingPathComponent("10x"))
        let (small, one) = try await rehearse(directory, "1x", profile: profile)
        let (large, ten) = try await rehearse(directory, "10x", profile: profile, snapshot: scaled)
        let (_, tenFourApps) = try await rehearse(directory, "10x-4apps", profile: profile, snapshot: scaled, apps: 4)
        #expect(large.users >= 10 * small.users - 10)
        #expect(ten.totalSeconds > one.totalSeconds)
        #expect(ten.seconds("throttling") > one.seconds("throttling"))
        // Per-app write quotas: four apps spread the writes, until the tenant-wide quota binds.
        #expect(
            tenFourApps.seconds("throttling") < ten.seconds("throttling") * 0.75,
            "\(tenFourApps.seconds("throttling")) vs \(ten.seconds("throttling"))")
        let table = WhatIf.table(
            [WhatIf.Row(label: "1x", result: small), WhatIf.Row(label: "10x", result: large)], objective: one.objectiveSeconds)
        #expect(table.count == 5 && table[3].hasPrefix("  1x") && table[4].hasPrefix("  10x"))
    }

    @Test func aLateDNSRecordKeepsTheVerifyStageWaitingForHours() async throws {
        let directory = try TemporaryDirectory("dns-late")
        let scenario = try TabletopScenario.parse(
            """
            lifeboat: 1
            name: dns-late
            runbook: \(Fixtures.runbook("tabletop-ransomware.yaml").path)
            snapshot: \(Fixtures.contoso.path)
            profile: fast
            gates: { declare-incident: 0s, create-tenant: 30m }
            events:
              - { do: publish-dns, at: 6h, name: DNS team publishes }
            """, file: directory.path("dns-late.yaml"))
        let (result, estimate) = try await rehearse(directory, "dns", profile: .fast, runbook: scenario.runbookPath, scenario: scenario)
        let verify = try #require(estimate.stages.first { $0.id == "verify-domains" })
        // The domains were added half an hour in; verification polls until the records appear at six hours.
        #expect(verify.seconds >= 5.5 * 3_600 && verify.seconds <= 6 * 3_600, "\(verify.seconds)")
        #expect(verify.waits["polling", default: 0] >= 5.5 * 3_600)
        #expect(estimate.seconds("polling") == verify.waits["polling", default: 0])
        let events = try await CheckpointStore(path: result.statePath).events()
        let published = try #require(events.first { $0.kind == "scenario.injected" })
        #expect(published.message.contains("DNS team publishes") && published.message.contains("contoso.com"))
        #expect((published.simulatedSeconds ?? 0) >= 6 * 3_600)
        let verified = try #require(events.last { $0.kind == "stage.done" && $0.stageID == "verify-domains" })
        #expect((verified.simulatedSeconds ?? 0) >= 6 * 3_600)
    }

    @Test func aThrottlingStormIsInjectedAndCostsTime() async throws {
        let directory = try TemporaryDirectory("storm")
        let profile = try Self.tightProfile(directory)
        func scenario(_ events: String) throws -> TabletopScenario {
            try TabletopScenario.parse(
                """
                lifeboat: 1
                runbook: \(Self.rebuild)
                snapshot: \(Fixtures.contoso.path)
                events:
                \(events)
                """, file: directory.path("storm.yaml"))
        }
        let calm = try scenario("  []")
        let stormy = try scenario("  - { do: throttling-storm, at: 10%, for: 2h, quota: 10% }")
        let (_, before) = try await rehearse(directory, "calm", profile: profile, scenario: calm)
        let (result, during) = try await rehearse(directory, "stormy", profile: profile, scenario: stormy)
        #expect(during.seconds("throttling") > before.seconds("throttling"))
        let events = try await CheckpointStore(path: result.statePath).events()
        let injected = try #require(events.first { $0.kind == "scenario.injected" })
        #expect(injected.operationKey == "scenario:0" && injected.message.contains("quotas shrink to 10%"))
        #expect(events.contains { $0.kind == "scenario.loaded" })
    }
}

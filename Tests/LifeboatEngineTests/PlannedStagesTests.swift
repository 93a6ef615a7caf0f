import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatTestSupport
import Testing

@testable import LifeboatEngine

/// A run's plans are made before its first write and handed to the executor, which takes each once, when it reaches
/// the stage: the plans are gone when the run ends, and the checkpoint holds exactly what they planned.
@Suite struct PlannedStagesTests {
    @Test func eachPlanIsTakenOnceWithItsCountKept() async throws {
        let drill = try await Drill("plans-take")
        let prepared = try Executor.prepare(drill.runbook, snapshot: drill.snapshot)
        let plans = PlannedStages(prepared)
        #expect(plans.counts.map(\.stageID) == drill.runbook.stages.map(\.id))
        #expect(plans.counts.map(\.operations) == prepared.map(\.plan.operations.count))
        let users = try #require(plans.take("users"))
        #expect(users.operations.map(\.key) == prepared.first { $0.stage.id == "users" }?.plan.operations.map(\.key))
        #expect(plans.take("users") == nil)
        #expect(plans.counts.first { $0.stageID == "users" }?.operations == users.operations.count)
    }

    @Test func aRunGivenItsPlansTakesEveryOneAndCheckpointsWhatTheyPlanned() async throws {
        let drill = try await Drill("plans-run")
        let prepared = try Executor.prepare(drill.runbook, snapshot: drill.snapshot)
        let plans = PlannedStages(prepared)
        let base = drill.executor()
        let executor = Executor(
            runbook: base.runbook, snapshot: base.snapshot, graph: base.graph, store: base.store, mode: .tabletop,
            options: base.options, prepared: plans)
        #expect(try await executor.run() == .completed)
        for stage in drill.runbook.stages { #expect(plans.take(stage.id) == nil, "\(stage.id)") }
        let checkpointed = try await drill.store.operationCountsByStage()
        for item in prepared {
            #expect(checkpointed[item.stage.id, default: [:]].values.reduce(0, +) == item.plan.operations.count, "\(item.stage.id)")
        }
        // Run again on the same plans: nothing is left to take, the checkpoint holds every stage, and nothing changes.
        #expect(try await executor.run() == .completed)
        #expect(try await drill.store.operationCountsByStage() == checkpointed)
    }

    @Test func onlyTheFirstStagesPlansAreHeldAndTheOthersArePlannedAgainWhenReached() async throws {
        let drill = try await Drill("plans-held")
        let prepared = try Executor.prepare(drill.runbook, snapshot: drill.snapshot)
        let sizes = prepared.map(\.plan.operations.count)
        let first = try #require(sizes.firstIndex { $0 > 0 })
        // A limit smaller than the first stage with operations still holds that stage, and nothing after it.
        let plans = PlannedStages(prepared, holding: 1)
        #expect(plans.counts.map(\.operations) == sizes)
        for (position, item) in prepared.enumerated() {
            #expect((plans.take(item.stage.id) != nil) == (position <= first), "\(item.stage.id)")
        }

        // A run holding only those plans checkpoints exactly what a run holding all of them does.
        let held = PlannedStages(prepared, holding: 1)
        let base = drill.executor()
        let executor = Executor(
            runbook: base.runbook, snapshot: base.snapshot, graph: base.graph, store: base.store, mode: .tabletop,
            options: base.options, prepared: held)
        #expect(try await executor.run() == .completed)
        let other = try await Drill("plans-all")
        let all = try Executor.prepare(other.runbook, snapshot: other.snapshot)
        let complete = other.executor()
        #expect(
            try await Executor(
                runbook: complete.runbook, snapshot: complete.snapshot, graph: complete.graph, store: complete.store, mode: .tabletop,
                options: complete.options, prepared: PlannedStages(all)
            ).run() == .completed)
        for item in prepared {
            let keys = try await drill.store.allOperations(stageID: item.stage.id).map(\.planned.key)
            #expect(keys == item.plan.operations.map(\.key), "\(item.stage.id)")
            #expect(keys == (try await other.store.allOperations(stageID: item.stage.id).map(\.planned.key)), "\(item.stage.id)")
        }
    }
}

import Foundation
import LifeboatEngine
import LifeboatTestSupport
import Testing

/// The checkpoint reads `status` uses (counts per stage, failed operations, the first follow-ups) give what reading
/// every row and filtering gave before.
@Suite struct CheckpointSummaryTests {
    @Test func summaryReadsMatchReadingEveryRow() async throws {
        let drill = try await Drill("summary")
        #expect(try await drill.executor().run() == .completed)
        // Two failures recorded the way the executor records them, in two stages.
        let users = try await drill.store.allOperations(stageID: "users").prefix(2)
        let groups = try await drill.store.allOperations(stageID: "groups").prefix(1)
        try await drill.store.recordCompletions(
            users.map { .failed($0.planned, code: "Request_BadRequest", message: "refused", requestID: "r-1") },
            stageID: "users", simulatedSeconds: nil)
        try await drill.store.recordCompletions(
            groups.map { .failed($0.planned, code: "Authorization_RequestDenied", message: "denied", requestID: nil) },
            stageID: "groups", simulatedSeconds: nil)

        let everything = try await drill.store.allOperations()
        let failed = try await drill.store.failedOperations()
        #expect(failed.map(\.planned.key) == everything.filter { $0.state == .failed }.map(\.planned.key))
        #expect(failed.count == 3)
        #expect(failed.map(\.errorCode) == everything.filter { $0.state == .failed }.map(\.errorCode))

        let byStage = try await drill.store.operationCountsByStage()
        for stage in try await drill.store.stages() {
            #expect((byStage[stage.id] ?? [:]) == (try await drill.store.operationCounts(stageID: stage.id)), "\(stage.id)")
        }

        let all = try await drill.store.followUps()
        #expect(all.count > 3)
        let first = try await drill.store.followUps(limit: 3)
        #expect(first.map(\.followUp) == all.prefix(3).map(\.followUp))
        #expect(try await drill.store.followUps(limit: 0).isEmpty)
        #expect(try await drill.store.totals().followUps == all.count)
    }
}

import Foundation
import LifeboatFakeTenant
import LifeboatSQLite
import LifeboatTestSupport
import Testing

@testable import LifeboatEngine

/// The counts `status` and a resume read (operations per stage and state, ID-map rows, follow-ups) are kept by the
/// checkpoint's triggers; they must equal what reading every row says, also for a checkpoint from before they existed.
@Suite struct CheckpointCountsTests {
    /// What the counts must be: every operation row read and counted.
    static func countedRowByRow(_ store: CheckpointStore) async throws -> (
        byStage: [String: [OperationState: Int]], idMap: Int, followUps: Int
    ) {
        var byStage: [String: [OperationState: Int]] = [:]
        for record in try await store.allOperations() { byStage[record.stageID, default: [:]][record.state, default: 0] += 1 }
        return (byStage, try await store.idMapEntries().count, try await store.followUps().count)
    }

    static func expectCounts(
        _ store: CheckpointStore, equal expected: (byStage: [String: [OperationState: Int]], idMap: Int, followUps: Int)
    ) async throws {
        #expect(try await store.operationCountsByStage() == expected.byStage)
        for (stage, counts) in expected.byStage { #expect(try await store.operationCounts(stageID: stage) == counts, "\(stage)") }
        let run = expected.byStage.values.reduce(into: [OperationState: Int]()) { total, counts in
            for (state, count) in counts { total[state, default: 0] += count }
        }
        #expect(try await store.operationCounts() == run)
        let totals = try await store.totals()
        #expect(totals.idMap == expected.idMap)
        #expect(totals.followUps == expected.followUps)
    }

    @Test func countsFollowEveryStateChangeAndSurviveAnOlderCheckpoint() async throws {
        let drill = try await Drill("counts")
        defer { drill.directory.remove() }
        #expect(try await drill.executor().run() == .completed)
        // Failures, a retry (failed → pending / sent), a withdrawn intent and a resolved follow-up move the counts too.
        let users = try await drill.store.allOperations(stageID: "users").prefix(3).map(\.planned)
        try await drill.store.recordCompletions(
            [
                .failed(users[0], code: "Request_BadRequest", message: "refused", requestID: nil),
                .failed(users[1], code: CheckpointStore.outcomeUnknownCode, message: "unknown", requestID: nil),
            ],
            stageID: "users", simulatedSeconds: nil)
        #expect(try await drill.store.failedOperations().map(\.planned.key) == [users[0].key, users[1].key])
        try await drill.store.retryFailed(stageID: "users")
        try await drill.store.recordIntents([users[2].key], stageID: "users", simulatedSeconds: nil)
        try await drill.store.withdrawIntents([users[2].key], stageID: "users")
        if let followUp = try await drill.store.followUps().first(where: { $0.sourceID != nil }) {
            try await drill.store.resolveFollowUps(
                category: followUp.followUp.category, sourceID: followUp.sourceID!, stageID: followUp.stageID)
        }
        let expected = try await Self.countedRowByRow(drill.store)
        #expect(expected.byStage["users"]?[.sent] == 1 && expected.byStage["users"]?[.pending] == 2)
        try await Self.expectCounts(drill.store, equal: expected)
        #expect(try await drill.store.failedOperations().isEmpty)

        // A checkpoint written before the counts existed: read-only it is counted row by row; opened to write, it gains them.
        let path = drill.statePath
        let older = try SQLiteConnection(path: path)
        try older.execute(
            """
            DROP TRIGGER operation_counts_insert; DROP TRIGGER operation_counts_update; DROP TRIGGER operation_counts_delete;
            DROP TRIGGER idmap_count_insert; DROP TRIGGER idmap_count_delete; DROP TRIGGER followups_count_insert; DROP TRIGGER followups_count_delete;
            DROP TABLE operation_counts; DROP TABLE table_counts; DROP INDEX followups_in_stage_order;
            """)
        try await Self.expectCounts(try CheckpointStore(readingOnly: path), equal: expected)
        let reopened = try CheckpointStore(path: path)
        try await Self.expectCounts(reopened, equal: expected)
        try await Self.expectCounts(try CheckpointStore(readingOnly: path), equal: expected)
        #expect(try await reopened.followUps(limit: 3).map(\.followUp) == (try await reopened.followUps()).prefix(3).map(\.followUp))
    }
}

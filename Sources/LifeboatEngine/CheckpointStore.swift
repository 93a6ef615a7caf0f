import Dispatch
import Foundation
import LifeboatJSON
import LifeboatSQLite
import LifeboatSnapshot

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a run is: its inputs, target and who ran it. Stored once, when the run starts.
package struct RunRecord: Codable, Sendable, Hashable {
    package var id: String
    package var mode: RunMode
    package var runbookPath: String
    package var runbookName: String
    package var runbookSHA256: String
    package var snapshotPath: String
    package var snapshotManifestSHA256: String
    package var sourceTenantId: String
    package var snapshotCapturedAt: String
    package var parameters: [String: String]
    /// Where the writes go: the fake tenant's state file, or a Graph URL.
    package var target: String
    package var targetTenantId: String?
    package var fakeStatePath: String?
    package var concurrency: Int
    package var toolVersion: String
    package var operatorName: String
    package var host: String
    package var startedAt: String
    /// The runbook's recovery-time objective in seconds, if it states one.
    package var objectiveSeconds: Double?
    /// The fake tenant's profile (tabletops).
    package var profile: String?
    /// The scenario file a tabletop follows (its injected events continue after a resume).
    package var scenarioPath: String?
    /// App registrations sharing the work (tabletops; Graph's quotas are per app).
    package var apps: Int?

    package init(
        id: String, mode: RunMode, runbookPath: String, runbookName: String, runbookSHA256: String, snapshotPath: String,
        snapshotManifestSHA256: String, sourceTenantId: String, snapshotCapturedAt: String, parameters: [String: String],
        target: String, targetTenantId: String?, fakeStatePath: String?, concurrency: Int, toolVersion: String,
        operatorName: String, host: String, startedAt: String, objectiveSeconds: Double? = nil, profile: String? = nil,
        scenarioPath: String? = nil, apps: Int? = nil
    ) {
        self.id = id
        self.mode = mode
        self.runbookPath = runbookPath
        self.runbookName = runbookName
        self.runbookSHA256 = runbookSHA256
        self.snapshotPath = snapshotPath
        self.snapshotManifestSHA256 = snapshotManifestSHA256
        self.sourceTenantId = sourceTenantId
        self.snapshotCapturedAt = snapshotCapturedAt
        self.parameters = parameters
        self.target = target
        self.targetTenantId = targetTenantId
        self.fakeStatePath = fakeStatePath
        self.concurrency = concurrency
        self.toolVersion = toolVersion
        self.operatorName = operatorName
        self.host = host
        self.startedAt = startedAt
        self.objectiveSeconds = objectiveSeconds
        self.profile = profile
        self.scenarioPath = scenarioPath
        self.apps = apps
    }
}

/// Where a run or stage stands.
package enum ProgressStatus: String, Sendable, Codable {
    case pending, running, waiting, done, failed
}

/// Where one operation stands. `sent` means its write may have reached the target.
package enum OperationState: String, Sendable, Codable {
    case pending, sent, done, failed, skipped
}

/// An operation as the checkpoint holds it.
package struct OperationRecord: Sendable, Hashable {
    package var planned: PlannedOperation
    package var stageID: String
    package var state: OperationState
    package var attempts: Int
    package var result: OperationOutcome.Result?
    package var newID: String?
    package var errorCode: String?
    package var errorMessage: String?
    package var requestID: String?
}

/// A stage's row in the checkpoint.
package struct StageRecord: Sendable, Hashable {
    package var id: String
    package var kind: String
    package var title: String
    package var ordinal: Int
    package var status: ProgressStatus
    package var startedAt: String?
    package var finishedAt: String?
}

/// Where a gate stands; stored as its raw value in the checkpoint's `gates.status` column.
package enum GateStatus: String, Sendable, Codable {
    /// Requested; the run stops here until someone approves it.
    case waiting
    /// Decided: the run goes on past it.
    case approved

    /// A stored value; anything unknown reads as `waiting` (a gate is never passed by accident).
    init(stored: String?) { self = stored.flatMap(GateStatus.init(rawValue:)) ?? .waiting }
}

/// A manual gate's state.
package struct GateRecord: Sendable, Hashable {
    package var stageID: String
    package var instructions: String
    package var status: GateStatus
    package var requestedAt: String?
    package var decidedAt: String?
    package var decidedBy: String?
    package var note: String?
}

/// One line of the append-only event log.
package struct EventRecord: Sendable, Hashable {
    package var sequence: Int
    package var at: String
    /// Simulated seconds since the run started, for tabletops.
    package var simulatedSeconds: Double?
    package var stageID: String?
    package var operationKey: String?
    package var kind: String
    package var message: String
    /// The event's JSON detail, when it has one (``RunEvent/detail``).
    package var detail: JSONValue? = nil
}

/// A recorded follow-up with what it is about.
package struct FollowUpRecord: Sendable, Hashable {
    package var stageID: String
    package var operationKey: String?
    package var sourceID: String?
    package var displayName: String?
    package var followUp: FollowUp

    package init(stageID: String, operationKey: String?, sourceID: String?, displayName: String?, followUp: FollowUp) {
        self.stageID = stageID
        self.operationKey = operationKey
        self.sourceID = sourceID
        self.displayName = displayName
        self.followUp = followUp
    }
}

/// The checkpoint database: the run, its stages and operations, the ID map, gates,
/// follow-ups and an append-only event log, in one SQLite file (WAL).
///
/// The rule it exists for: an operation's intent is committed before its write is sent, and its
/// result is committed together with its ID-map row, so a crash at any moment loses nothing.
package actor CheckpointStore {
    private let db: SQLiteConnection
    private let executor: DispatchQueueExecutor
    private let timestamp: ISO8601DateFormatter
    /// The database file.
    package nonisolated let path: String

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The schema version this build writes.
    package static let schemaVersion = 1

    private let clock: @Sendable () -> Date

    /// Opens (creating when missing) a checkpoint database. `clock` stamps every row (tests inject a fixed one).
    package init(path: String, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.path = path
        self.clock = clock
        executor = DispatchQueueExecutor(label: "lifeboat.checkpoint")
        timestamp = ISO8601DateFormatter()
        timestamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        db = try SQLiteConnection(path: path)
        try db.execute(Self.schema)
        try Self.addOperationCounts(db)
        // Added after schema 1 was released: a checkpoint from before gains the column (empty) when opened to write.
        if try !Self.hasColumn("app", in: "operations", db) { try db.execute("ALTER TABLE operations ADD COLUMN app TEXT") }
        if let row = try db.queryFirst("SELECT value FROM meta WHERE key = 'schemaVersion'"), let version = row.string(0) {
            guard Int(version) == Self.schemaVersion else {
                throw SQLiteError(
                    code: 1, message: "checkpoint schema \(version) is not supported by this lifeboat (expects \(Self.schemaVersion))",
                    path: path)
            }
        } else {
            try db.run("INSERT INTO meta(key, value) VALUES ('schemaVersion', ?)", [.text(String(Self.schemaVersion))])
        }
    }

    /// Operation counts per stage and state, kept current by triggers in the transaction that changes an operation, so
    /// `status` and a resume read a few rows instead of every operation. A checkpoint from before the table gains it,
    /// filled from its operations, in one transaction with the triggers (so the counts are never half made).
    static let operationCountsSchema = """
        CREATE TABLE operation_counts(stage_id TEXT NOT NULL, state TEXT NOT NULL, count INTEGER NOT NULL,
            PRIMARY KEY(stage_id, state)) WITHOUT ROWID;
        CREATE TRIGGER operation_counts_insert AFTER INSERT ON operations BEGIN
            INSERT INTO operation_counts(stage_id, state, count) VALUES (new.stage_id, new.state, 1)
                ON CONFLICT(stage_id, state) DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER operation_counts_update AFTER UPDATE OF state, stage_id ON operations
            WHEN old.state IS NOT new.state OR old.stage_id IS NOT new.stage_id BEGIN
            UPDATE operation_counts SET count = count - 1 WHERE stage_id = old.stage_id AND state = old.state;
            INSERT INTO operation_counts(stage_id, state, count) VALUES (new.stage_id, new.state, 1)
                ON CONFLICT(stage_id, state) DO UPDATE SET count = count + 1;
        END;
        CREATE TRIGGER operation_counts_delete AFTER DELETE ON operations BEGIN
            UPDATE operation_counts SET count = count - 1 WHERE stage_id = old.stage_id AND state = old.state;
        END;
        INSERT INTO operation_counts(stage_id, state, count) SELECT stage_id, state, COUNT(*) FROM operations GROUP BY stage_id, state;
        CREATE TABLE table_counts(name TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID;
        INSERT INTO table_counts(name, count) VALUES ('idmap', (SELECT COUNT(*) FROM idmap)), ('followups', (SELECT COUNT(*) FROM followups));
        CREATE TRIGGER idmap_count_insert AFTER INSERT ON idmap BEGIN UPDATE table_counts SET count = count + 1 WHERE name = 'idmap'; END;
        CREATE TRIGGER idmap_count_delete AFTER DELETE ON idmap BEGIN UPDATE table_counts SET count = count - 1 WHERE name = 'idmap'; END;
        CREATE TRIGGER followups_count_insert AFTER INSERT ON followups BEGIN UPDATE table_counts SET count = count + 1 WHERE name = 'followups'; END;
        CREATE TRIGGER followups_count_delete AFTER DELETE ON followups BEGIN UPDATE table_counts SET count = count - 1 WHERE name = 'followups'; END;
        CREATE INDEX followups_in_stage_order ON followups(stage_id, id);
        """

    private static func addOperationCounts(_ db: SQLiteConnection) throws {
        guard try !hasTable("operation_counts", db) else { return }
        try db.transaction { try db.execute(operationCountsSchema) }
    }

    static func hasTable(_ table: String, _ db: SQLiteConnection) throws -> Bool {
        try db.queryFirst("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [.text(table)]) != nil
    }

    static func hasColumn(_ column: String, in table: String, _ db: SQLiteConnection) throws -> Bool {
        try db.query("SELECT name FROM pragma_table_info(?)", [.text(table)]).contains { $0.string(0) == column }
    }

    /// Operations done per app registration (``OperationOutcome/app``: the client id in a rebuild, the fake tenant's
    /// app name in a tabletop); operations that sent no write, and those of a checkpoint from before the column, are
    /// under `nil`.
    package func operationsByApp(stageID: String? = nil) throws -> [String?: Int] {
        guard try Self.hasColumn("app", in: "operations", db) else {
            return [nil: try db.queryFirst("SELECT count(*) FROM operations WHERE state = 'done'")?.int(0) ?? 0]
        }
        var counts: [String?: Int] = [:]
        let filter = stageID == nil ? "" : " AND stage_id = ?"
        for row in try db.query(
            "SELECT app, count(*) FROM operations WHERE state = 'done'" + filter + " GROUP BY app", stageID.map { [.text($0)] } ?? [])
        {
            counts[row.string(0), default: 0] += row.int(1) ?? 0
        }
        return counts
    }

    /// Why a file was not opened as a checkpoint for reading.
    package struct NotACheckpoint: Error, CustomStringConvertible {
        package var path: String
        package var problem: String
        package var description: String { "\(path) is not a Lifeboat checkpoint: \(problem); it was not changed" }
    }

    /// Opens an existing checkpoint for reading only (`status`, `report`, `idmap`): SQLite opens it read-only, no table
    /// is created and no pragma is set, so a file that is not a checkpoint is refused byte for byte unchanged, and a
    /// checkpoint in a read-only file or directory can be read.
    package init(readingOnly path: String, clock: @escaping @Sendable () -> Date = { Date() }) throws {
        self.path = path
        self.clock = clock
        executor = DispatchQueueExecutor(label: "lifeboat.checkpoint")
        timestamp = ISO8601DateFormatter()
        timestamp.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // Look at the header before SQLite does: a text file or an empty one is named for what it is.
        guard let handle = FileHandle(forReadingAtPath: path) else { throw NotACheckpoint(path: path, problem: "it cannot be read") }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        try? handle.close()
        guard header == Data("SQLite format 3\0".utf8) else {
            throw NotACheckpoint(path: path, problem: header.isEmpty ? "it is empty" : "it is not a SQLite database")
        }
        do {
            db = try SQLiteConnection(readingOnly: path)
        } catch {
            throw NotACheckpoint(path: path, problem: "SQLite cannot read it (\(error))")
        }
        let version: String?
        do {
            version = try db.queryFirst("SELECT value FROM meta WHERE key = 'schemaVersion'")?.string(0)
            _ = try db.queryFirst("SELECT count(*) FROM run")
        } catch {
            throw NotACheckpoint(path: path, problem: "it has no Lifeboat tables (a SQLite database of something else)")
        }
        guard let version else { throw NotACheckpoint(path: path, problem: "it records no schema version") }
        guard Int(version) == Self.schemaVersion else {
            throw NotACheckpoint(
                path: path, problem: "checkpoint schema \(version) is not supported by this lifeboat (expects \(Self.schemaVersion))")
        }
    }

    static let schema = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS run(
            id TEXT PRIMARY KEY, status TEXT NOT NULL, record TEXT NOT NULL,
            started_at TEXT NOT NULL, finished_at TEXT, simulated_seconds REAL);
        CREATE TABLE IF NOT EXISTS stages(
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, title TEXT NOT NULL, ordinal INTEGER NOT NULL,
            status TEXT NOT NULL, started_at TEXT, finished_at TEXT,
            simulated_start REAL, simulated_end REAL);
        CREATE TABLE IF NOT EXISTS operations(
            key TEXT PRIMARY KEY, stage_id TEXT NOT NULL REFERENCES stages(id), ordinal INTEGER NOT NULL,
            object_type TEXT, source_id TEXT NOT NULL, natural_key TEXT, display_name TEXT NOT NULL,
            detail TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
            result TEXT, new_id TEXT, note TEXT, error_code TEXT, error_message TEXT, request_id TEXT,
            updated_at TEXT NOT NULL);
        DROP INDEX IF EXISTS operations_by_stage;
        CREATE INDEX IF NOT EXISTS operations_in_plan_order ON operations(stage_id, ordinal);
        CREATE TABLE IF NOT EXISTS idmap(
            old_id TEXT PRIMARY KEY, object_type TEXT NOT NULL, new_id TEXT NOT NULL, natural_key TEXT,
            display_name TEXT NOT NULL, how TEXT NOT NULL, old_app_id TEXT, new_app_id TEXT,
            stage_id TEXT NOT NULL, operation_key TEXT NOT NULL, recorded_at TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS gates(
            stage_id TEXT PRIMARY KEY, instructions TEXT NOT NULL, status TEXT NOT NULL,
            requested_at TEXT, decided_at TEXT, decided_by TEXT, note TEXT);
        CREATE TABLE IF NOT EXISTS followups(
            id INTEGER PRIMARY KEY AUTOINCREMENT, stage_id TEXT NOT NULL, operation_key TEXT, source_id TEXT,
            display_name TEXT, category TEXT NOT NULL, message TEXT NOT NULL, action TEXT NOT NULL,
            UNIQUE(stage_id, operation_key, category, message));
        CREATE TABLE IF NOT EXISTS events(
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, simulated_seconds REAL,
            stage_id TEXT, operation_key TEXT, kind TEXT NOT NULL, message TEXT NOT NULL, detail TEXT);
        CREATE TABLE IF NOT EXISTS simulated_waits(
            stage_id TEXT NOT NULL, reason TEXT NOT NULL, seconds REAL NOT NULL, PRIMARY KEY(stage_id, reason));
        CREATE TABLE IF NOT EXISTS stage_dependencies(
            stage_id TEXT NOT NULL, after_id TEXT NOT NULL, PRIMARY KEY(stage_id, after_id));
        CREATE TRIGGER IF NOT EXISTS events_are_append_only_u BEFORE UPDATE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS events_are_append_only_d BEFORE DELETE ON events
            BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
        """

    private func now() -> String { timestamp.string(from: clock()) }

    // MARK: - Run

    /// The run this database holds, if one was started.
    package func runRecord() throws -> (record: RunRecord, status: ProgressStatus, finishedAt: String?)? {
        guard let row = try db.queryFirst("SELECT record, status, finished_at FROM run LIMIT 1") else { return nil }
        let record = try JSONCoding.decode(RunRecord.self, from: Data((row.string(0) ?? "").utf8))
        return (record, ProgressStatus(rawValue: row.string(1) ?? "") ?? .pending, row.string(2))
    }

    /// Records a new run and its stages.
    package func startRun(_ record: RunRecord, stages: [(id: String, kind: String, title: String)], simulatedSeconds: Double?) throws {
        let json = String(decoding: try JSONCoding.encode(record), as: UTF8.self)
        try db.transaction {
            try db.run(
                "INSERT INTO run(id, status, record, started_at) VALUES (?, 'running', ?, ?)",
                [.text(record.id), .text(json), .text(record.startedAt)])
            for (ordinal, stage) in stages.enumerated() {
                try db.run(
                    "INSERT INTO stages(id, kind, title, ordinal, status) VALUES (?, ?, ?, ?, 'pending')",
                    [.text(stage.id), .text(stage.kind), .text(stage.title), .integer(Int64(ordinal))])
            }
            try append(
                .runStarted(mode: record.mode, runbookName: record.runbookName, operatorName: record.operatorName, host: record.host),
                simulated: simulatedSeconds)
        }
    }

    /// Marks the run's status (and end time when it finished).
    package func setRunStatus(_ status: ProgressStatus, message: String, simulatedSeconds: Double?) throws {
        try db.transaction {
            let finished: SQLiteValue = status == .done ? .text(now()) : .null
            try db.run(
                "UPDATE run SET status = ?, finished_at = COALESCE(?, finished_at), simulated_seconds = COALESCE(?, simulated_seconds)",
                [.text(status.rawValue), finished, simulatedSeconds.map(SQLiteValue.real) ?? .null])
            try append(.runStatus(status, note: message), simulated: simulatedSeconds)
        }
    }

    /// Notes that a process resumed this run.
    package func recordResume(operatorName: String, host: String, simulatedSeconds: Double?) throws {
        try db.transaction {
            try db.run("UPDATE run SET status = 'running'")
            try append(.runResumed(operatorName: operatorName, host: host), simulated: simulatedSeconds)
        }
    }

    // MARK: - Stages

    package func stages() throws -> [StageRecord] {
        try db.query("SELECT id, kind, title, ordinal, status, started_at, finished_at FROM stages ORDER BY ordinal").map {
            StageRecord(
                id: $0.string(0) ?? "", kind: $0.string(1) ?? "", title: $0.string(2) ?? "", ordinal: $0.int(3) ?? 0,
                status: ProgressStatus(rawValue: $0.string(4) ?? "") ?? .pending, startedAt: $0.string(5), finishedAt: $0.string(6))
        }
    }

    package func setStageStatus(_ stageID: String, _ status: ProgressStatus, message: String, simulatedSeconds: Double?) throws {
        try db.transaction {
            switch status {
            case .running:
                try db.run(
                    "UPDATE stages SET status = ?, started_at = COALESCE(started_at, ?), simulated_start = COALESCE(simulated_start, ?) WHERE id = ?",
                    [.text(status.rawValue), .text(now()), simulatedSeconds.map(SQLiteValue.real) ?? .null, .text(stageID)])
            case .done, .failed:
                try db.run(
                    "UPDATE stages SET status = ?, finished_at = ?, simulated_end = ? WHERE id = ?",
                    [.text(status.rawValue), .text(now()), simulatedSeconds.map(SQLiteValue.real) ?? .null, .text(stageID)])
            default:
                try db.run("UPDATE stages SET status = ? WHERE id = ?", [.text(status.rawValue), .text(stageID)])
            }
            try append(.stageStatus(stageID: stageID, status, note: message), simulated: simulatedSeconds)
        }
    }

    // MARK: - Operations

    /// Stores a stage's planned operations (once; a resumed stage keeps its rows) and returns how many were new.
    @discardableResult
    package func insertPlanned(_ operations: [PlannedOperation], stageID: String) throws -> Int {
        let at = now()
        return try db.transaction {
            var inserted = 0
            for (ordinal, op) in operations.enumerated() {
                let detail = JSONCoding.string(op.detail)
                inserted += try db.run(
                    """
                    INSERT OR IGNORE INTO operations(key, stage_id, ordinal, object_type, source_id, natural_key, display_name, detail, state, result, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(op.key), .text(stageID), .integer(Int64(ordinal)), (op.objectType?.rawValue).sqlite, .text(op.sourceID),
                        op.naturalKey.sqlite, .text(op.displayName), .text(detail),
                        .text(op.skip == nil ? OperationState.pending.rawValue : OperationState.skipped.rawValue),
                        op.skip == nil ? .null : .text(OperationOutcome.Result.skipped.rawValue), .text(at),
                    ])
                if let skip = op.skip {
                    try insertFollowUp(skip, stageID: stageID, op: op)
                }
            }
            if inserted > 0 {
                try append(.stagePlanned(stageID: stageID, operations: inserted), simulated: nil)
            }
            return inserted
        }
    }

    /// The stage's operations in a given state, in plan order.
    package func operations(stageID: String, state: OperationState) throws -> [OperationRecord] {
        try db.query(Self.selectOperations + " WHERE stage_id = ? AND state = ? ORDER BY ordinal", [.text(stageID), .text(state.rawValue)])
            .map(Self.operation)
    }

    /// Every operation of the run (or of one stage), in stage and plan order.
    package func allOperations(stageID: String? = nil) throws -> [OperationRecord] {
        if let stageID {
            return try db.query(Self.selectOperations + " WHERE stage_id = ? ORDER BY ordinal", [.text(stageID)]).map(Self.operation)
        }
        return try db.query(Self.selectOperations + " JOIN stages s ON s.id = operations.stage_id ORDER BY s.ordinal, operations.ordinal")
            .map(Self.operation)
    }

    /// The run's failed operations, in stage and plan order, read without the rest (what `status` lists).
    package func failedOperations() throws -> [OperationRecord] {
        guard try countsTable else {
            return try db.query(
                Self.selectOperations
                    + " JOIN stages s ON s.id = operations.stage_id WHERE operations.state = 'failed' ORDER BY s.ordinal, operations.ordinal"
            )
            .map(Self.operation)
        }
        // Only the stages that have failed operations are read, each through its index.
        let stages = try db.query(
            "SELECT c.stage_id FROM operation_counts c JOIN stages s ON s.id = c.stage_id WHERE c.state = 'failed' AND c.count > 0 ORDER BY s.ordinal"
        )
        return try stages.flatMap { try operations(stageID: $0.string(0) ?? "", state: .failed) }
    }

    /// Operation counts per stage and state (what `status` prints per stage), from the counts the checkpoint keeps.
    package func operationCountsByStage() throws -> [String: [OperationState: Int]] {
        var counts: [String: [OperationState: Int]] = [:]
        let query =
            try countsTable
            ? "SELECT stage_id, state, count FROM operation_counts WHERE count > 0"
            : "SELECT stage_id, state, COUNT(*) FROM operations GROUP BY stage_id, state"
        for row in try db.query(query) {
            guard let stageID = row.string(0), let state = OperationState(rawValue: row.string(1) ?? "") else { continue }
            counts[stageID, default: [:]][state] = row.int(2) ?? 0
        }
        return counts
    }

    private static let selectOperations = """
        SELECT key, stage_id, object_type, source_id, natural_key, display_name, detail, state, attempts, result, new_id,
               error_code, error_message, request_id FROM operations
        """

    private static func operation(_ row: SQLiteRow) -> OperationRecord {
        let detail = (try? JSONCoding.decode(Data((row.string(6) ?? "null").utf8))) ?? .null
        let planned = PlannedOperation(
            key: row.string(0) ?? "", objectType: row.string(2).flatMap(ObjectType.init(rawValue:)),
            sourceID: row.string(3) ?? "", naturalKey: row.string(4), displayName: row.string(5) ?? "", detail: detail)
        return OperationRecord(
            planned: planned, stageID: row.string(1) ?? "", state: OperationState(rawValue: row.string(7) ?? "") ?? .pending,
            attempts: row.int(8) ?? 0, result: row.string(9).flatMap(OperationOutcome.Result.init(rawValue:)),
            newID: row.string(10), errorCode: row.string(11), errorMessage: row.string(12), requestID: row.string(13))
    }

    /// Commits the intent of a window of writes (state `sent`) in one transaction, before any is sent.
    package func recordIntents(_ keys: [String], stageID: String, simulatedSeconds: Double?) throws {
        let at = now()
        try db.transaction {
            for key in keys {
                try db.run(
                    "UPDATE operations SET state = 'sent', attempts = attempts + 1, updated_at = ? WHERE key = ?", [.text(at), .text(key)])
            }
            try append(.operationsSent(stageID: stageID, keys: keys), simulated: simulatedSeconds)
        }
    }

    /// Takes back intents whose writes were never sent (the run stopped first): the operations are pending again.
    package func withdrawIntents(_ keys: [String], stageID: String) throws {
        let at = now()
        try db.transaction {
            for key in keys {
                try db.run(
                    "UPDATE operations SET state = 'pending', attempts = max(attempts - 1, 0), updated_at = ? WHERE key = ? AND state = 'sent'",
                    [.text(at), .text(key)])
            }
        }
    }

    /// The result of one operation, or the failure that stopped it.
    package enum Completion: Sendable {
        case succeeded(PlannedOperation, OperationOutcome, mapping: IDMapEntry?)
        case failed(PlannedOperation, code: String, message: String, requestID: String?)
        /// Reconciliation found nothing: the write never landed and goes back to `pending`.
        case notApplied(PlannedOperation)
    }

    /// Commits results together with their ID-map rows and follow-ups, in one transaction.
    package func recordCompletions(_ completions: [Completion], stageID: String, simulatedSeconds: Double?) throws {
        guard !completions.isEmpty else { return }
        let at = now()
        try db.transaction {
            var counts: [String: Int] = [:]
            for completion in completions {
                switch completion {
                case .succeeded(let op, let outcome, let mapping):
                    let state: OperationState = outcome.result == .skipped ? .skipped : .done
                    try db.run(
                        "UPDATE operations SET state = ?, result = ?, new_id = ?, note = ?, app = ?, error_code = NULL, error_message = NULL, request_id = NULL, updated_at = ? WHERE key = ?",
                        [
                            .text(state.rawValue), .text(outcome.result.rawValue), outcome.newID.sqlite, outcome.note.sqlite,
                            outcome.app.sqlite, .text(at), .text(op.key),
                        ])
                    if let mapping {
                        try db.run(
                            """
                            INSERT INTO idmap(old_id, object_type, new_id, natural_key, display_name, how, old_app_id, new_app_id, stage_id, operation_key, recorded_at)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                            ON CONFLICT(old_id) DO UPDATE SET new_id = excluded.new_id, how = excluded.how, new_app_id = excluded.new_app_id, recorded_at = excluded.recorded_at
                            """,
                            [
                                .text(mapping.oldID), .text(mapping.objectType.rawValue), .text(mapping.newID), mapping.naturalKey.sqlite,
                                .text(mapping.displayName), .text(mapping.how.rawValue), mapping.oldAppID.sqlite, mapping.newAppID.sqlite,
                                .text(stageID), .text(op.key), .text(at),
                            ])
                    }
                    for followUp in outcome.followUps { try insertFollowUp(followUp, stageID: stageID, op: op) }
                    counts[outcome.result.rawValue, default: 0] += 1
                    if outcome.result == .adopted {
                        try append(
                            .operationAdopted(stageID: stageID, operationKey: op.key, displayName: op.displayName, newID: outcome.newID),
                            simulated: simulatedSeconds)
                    }
                case .failed(let op, let code, let message, let requestID):
                    try db.run(
                        "UPDATE operations SET state = 'failed', error_code = ?, error_message = ?, request_id = ?, updated_at = ? WHERE key = ?",
                        [.text(code), .text(message), requestID.sqlite, .text(at), .text(op.key)])
                    try append(
                        .operationFailed(
                            stageID: stageID, operationKey: op.key,
                            summary: OperationFailure.summary(
                                displayName: op.displayName, code: code, message: message,
                                requestID: requestID)),
                        simulated: simulatedSeconds)
                    counts["failed", default: 0] += 1
                case .notApplied(let op):
                    try db.run("UPDATE operations SET state = 'pending', updated_at = ? WHERE key = ?", [.text(at), .text(op.key)])
                    counts["retry", default: 0] += 1
                }
            }
            try append(.operationsRecorded(stageID: stageID, results: counts), simulated: simulatedSeconds)
        }
    }

    /// The error code of a failed write whose outcome is unknown (it may have landed, and no look-up could tell).
    package static let outcomeUnknownCode = "OutcomeUnknown"

    /// Puts failed operations of a stage back to `pending` so that a resume retries them; a write whose outcome is
    /// unknown goes back to `sent`, so that it is looked up before it is written again.
    @discardableResult
    package func retryFailed(stageID: String) throws -> Int {
        try db.transaction {
            let count = try db.run(
                "UPDATE operations SET state = CASE WHEN error_code = ? THEN 'sent' ELSE 'pending' END WHERE stage_id = ? AND state = 'failed'",
                [.text(Self.outcomeUnknownCode), .text(stageID)])
            if count > 0 { try append(.operationsRetry(stageID: stageID, operations: count), simulated: nil) }
            return count
        }
    }

    /// Rows in the ID map and follow-ups recorded, without reading them (from the counts the checkpoint keeps).
    package func totals() throws -> (idMap: Int, followUps: Int) {
        if try countsTable {
            var counts: [String: Int] = [:]
            for row in try db.query("SELECT name, count FROM table_counts") { counts[row.string(0) ?? ""] = row.int(1) ?? 0 }
            return (counts["idmap"] ?? 0, counts["followups"] ?? 0)
        }
        return (
            try db.queryFirst("SELECT COUNT(*) FROM idmap")?.int(0) ?? 0, try db.queryFirst("SELECT COUNT(*) FROM followups")?.int(0) ?? 0
        )
    }

    /// Operation counts per state for a stage (or the run).
    package func operationCounts(stageID: String? = nil) throws -> [OperationState: Int] {
        let table = try countsTable
        let rows =
            stageID == nil
            ? try db.query(
                table
                    ? "SELECT state, SUM(count) FROM operation_counts GROUP BY state"
                    : "SELECT state, COUNT(*) FROM operations GROUP BY state")
            : try db.query(
                table
                    ? "SELECT state, count FROM operation_counts WHERE stage_id = ?"
                    : "SELECT state, COUNT(*) FROM operations WHERE stage_id = ? GROUP BY state",
                [.text(stageID!)])
        var counts: [OperationState: Int] = [:]
        for row in rows {
            if let state = OperationState(rawValue: row.string(0) ?? ""), let count = row.int(1), count > 0 { counts[state] = count }
        }
        return counts
    }

    /// Whether the checkpoint keeps ``operationCountsSchema``'s table (one opened only to read may be older).
    private var countsTable: Bool {
        get throws {
            if let known = hasCountsTable { return known }
            let found = try Self.hasTable("operation_counts", db)
            hasCountsTable = found
            return found
        }
    }
    private var hasCountsTable: Bool?

    // MARK: - ID map

    /// The ID map, ordered by object type, display name and old id unless `ordered` is false (an executor that only
    /// looks entries up need not sort 100,000 rows).
    package func idMapEntries(ordered: Bool = true) throws -> [IDMapEntry] {
        var entries: [IDMapEntry] = []
        try forEachIDMapEntry(ordered: ordered) { entries.append($0) }
        return entries
    }

    private func forEachIDMapEntry(ordered: Bool, _ body: (IDMapEntry) throws -> Void) throws {
        try db.forEachRow(
            "SELECT object_type, old_id, new_id, natural_key, display_name, how, old_app_id, new_app_id, stage_id FROM idmap"
                + (ordered ? " ORDER BY object_type, display_name, old_id" : "")
        ) { row in
            guard let type = ObjectType(rawValue: row.string(0) ?? ""), let how = RestoreMethod(rawValue: row.string(5) ?? "") else {
                return
            }
            try body(
                IDMapEntry(
                    objectType: type, oldID: row.string(1) ?? "", newID: row.string(2) ?? "", naturalKey: row.string(3),
                    displayName: row.string(4) ?? "", how: how, oldAppID: row.string(6), newAppID: row.string(7),
                    stageID: row.string(8) ?? ""))
        }
    }

    /// Writes the ID map (in ``idMapEntries(ordered:)``'s order) to `handle`, row by row as the database reads it: no
    /// copy of the map is held (at 100,000 users that copy was about 70 MB at the end of the run, when memory peaks).
    /// Returns the rows written.
    @discardableResult
    package func writeIDMap(_ format: IDMapFormat, to handle: FileHandle) throws -> Int {
        var rendering = IDMapWriter.Rendering(format)
        var buffer = rendering.opening
        var rows = 0
        try forEachIDMapEntry(ordered: true) { entry in
            buffer.append(try rendering.row(entry))
            rows += 1
            if buffer.count >= 1 << 16 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        buffer.append(try rendering.closing)
        try handle.write(contentsOf: buffer)
        return rows
    }

    /// Writes the ID map to the file at `url` as ``writeIDMap(_:to:)`` does, through a new file next to it that replaces
    /// it once complete (a reader never sees half a map; the file gets the usual mode, 0666 less the umask). Returns the
    /// rows written.
    @discardableResult
    package func exportIDMap(to url: URL, format: IDMapFormat) throws -> Int {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).partial")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Self.writeError(errno, url) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            let rows = try writeIDMap(format, to: handle)
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else { throw Self.writeError(errno, url) }
            return rows
        } catch {
            try? handle.close()
            unlink(temporary.path)
            throw error
        }
    }

    /// A failed write of `url`, as Foundation reports one (the file and the system's reason).
    private static func writeError(_ code: Int32, _ url: URL) -> CocoaError {
        CocoaError(
            .fileWriteUnknown,
            userInfo: [NSFilePathErrorKey: url.path, NSUnderlyingErrorKey: POSIXError(POSIXErrorCode(rawValue: code) ?? .EIO)])
    }

    // MARK: - Gates

    package func gate(_ stageID: String) throws -> GateRecord? {
        try db.queryFirst(
            "SELECT stage_id, instructions, status, requested_at, decided_at, decided_by, note FROM gates WHERE stage_id = ?",
            [.text(stageID)]
        )
        .map {
            GateRecord(
                stageID: $0.string(0) ?? "", instructions: $0.string(1) ?? "", status: GateStatus(stored: $0.string(2)),
                requestedAt: $0.string(3), decidedAt: $0.string(4), decidedBy: $0.string(5), note: $0.string(6))
        }
    }

    package func gates() throws -> [GateRecord] {
        try db.query(
            "SELECT g.stage_id, g.instructions, g.status, g.requested_at, g.decided_at, g.decided_by, g.note FROM gates g JOIN stages s ON s.id = g.stage_id ORDER BY s.ordinal"
        )
        .map {
            GateRecord(
                stageID: $0.string(0) ?? "", instructions: $0.string(1) ?? "", status: GateStatus(stored: $0.string(2)),
                requestedAt: $0.string(3), decidedAt: $0.string(4), decidedBy: $0.string(5), note: $0.string(6))
        }
    }

    /// Opens a gate (once) and returns its record.
    package func requestGate(_ stageID: String, instructions: String, simulatedSeconds: Double?) throws -> GateRecord {
        if let existing = try gate(stageID) { return existing }
        try db.transaction {
            try db.run(
                "INSERT INTO gates(stage_id, instructions, status, requested_at) VALUES (?, ?, ?, ?)",
                [.text(stageID), .text(instructions), .text(GateStatus.waiting.rawValue), .text(now())])
            try append(.gateWaiting(stageID: stageID), simulated: simulatedSeconds)
        }
        return try gate(stageID)!
    }

    /// Approves a waiting gate; approving twice is refused so the record keeps the first decision.
    package func approveGate(_ stageID: String, by name: String, note: String?, simulatedSeconds: Double?) throws -> Bool {
        try db.transaction {
            let changed = try db.run(
                "UPDATE gates SET status = ?, decided_at = ?, decided_by = ?, note = ? WHERE stage_id = ? AND status = ?",
                [
                    .text(GateStatus.approved.rawValue), .text(now()), .text(name), note.sqlite, .text(stageID),
                    .text(GateStatus.waiting.rawValue),
                ])
            if changed > 0 {
                try append(.gateApproved(stageID: stageID, by: name, note: note), simulated: simulatedSeconds)
            }
            return changed > 0
        }
    }

    // MARK: - Follow-ups and events

    private func insertFollowUp(_ followUp: FollowUp, stageID: String, op: PlannedOperation?) throws {
        try db.run(
            "INSERT OR IGNORE INTO followups(stage_id, operation_key, source_id, display_name, category, message, action) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(stageID), (op?.key).sqlite, (op?.sourceID).sqlite, (op?.displayName).sqlite, .text(followUp.category),
                .text(followUp.message), .text(followUp.action),
            ])
    }

    /// Records a follow-up that belongs to a stage rather than one operation.
    package func addFollowUp(_ followUp: FollowUp, stageID: String) throws {
        try insertFollowUp(followUp, stageID: stageID, op: nil)
    }

    /// Withdraws follow-ups that a later stage dealt with (e.g. a policy left in report-only that was then enabled).
    package func resolveFollowUps(category: String, sourceID: String, stageID: String) throws {
        try db.transaction {
            let count = try db.run("DELETE FROM followups WHERE category = ? AND source_id = ?", [.text(category), .text(sourceID)])
            if count > 0 {
                try append(.followUpsResolved(stageID: stageID, count: count, category: category, sourceID: sourceID), simulated: nil)
            }
        }
    }

    /// The follow-ups in stage order; with `limit`, only the first ones (a summary need not read all of them).
    package func followUps(limit: Int? = nil) throws -> [FollowUpRecord] {
        if let limit, try countsTable {
            // Stage by stage through the index in stage order, until `limit` are read: no sort of every follow-up.
            var records: [FollowUpRecord] = []
            for stage in try db.query("SELECT id FROM stages ORDER BY ordinal") where records.count < limit {
                records += try db.query(
                    "SELECT stage_id, operation_key, source_id, display_name, category, message, action FROM followups WHERE stage_id = ? ORDER BY id LIMIT ?",
                    [.text(stage.string(0) ?? ""), .integer(Int64(max(0, limit - records.count)))]
                )
                .map {
                    FollowUpRecord(
                        stageID: $0.string(0) ?? "", operationKey: $0.string(1), sourceID: $0.string(2), displayName: $0.string(3),
                        followUp: FollowUp(category: $0.string(4) ?? "", message: $0.string(5) ?? "", action: $0.string(6) ?? ""))
                }
            }
            return records
        }
        return try db.query(
            "SELECT f.stage_id, f.operation_key, f.source_id, f.display_name, f.category, f.message, f.action FROM followups f JOIN stages s ON s.id = f.stage_id ORDER BY s.ordinal, f.id"
                + (limit.map { " LIMIT \(max(0, $0))" } ?? "")
        )
        .map {
            FollowUpRecord(
                stageID: $0.string(0) ?? "", operationKey: $0.string(1), sourceID: $0.string(2), displayName: $0.string(3),
                followUp: FollowUp(category: $0.string(4) ?? "", message: $0.string(5) ?? "", action: $0.string(6) ?? ""))
        }
    }

    /// Appends to the event log (in the caller's transaction, if any). Other modules write through ``append(_:simulated:)``,
    /// so every event is a ``RunEvent``.
    func appendEvent(
        kind: String, stageID: String? = nil, operationKey: String? = nil, message: String,
        detail: JSONValue? = nil, simulated: Double?
    ) throws {
        try db.run(
            "INSERT INTO events(at, simulated_seconds, stage_id, operation_key, kind, message, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(now()), simulated.map(SQLiteValue.real) ?? .null, stageID.sqlite, operationKey.sqlite, .text(kind), .text(message),
                detail.map { .text(JSONCoding.string($0)) } ?? .null,
            ])
    }

    /// The message and detail of every event of one kind, in log order (the detail is not part of ``events()``).
    func eventDetails(kind: String) throws -> [(message: String, detail: JSONValue?)] {
        try db.query("SELECT message, detail FROM events WHERE kind = ? ORDER BY seq", [.text(kind)]).map { row in
            (row.string(0) ?? "", row.string(1).flatMap { try? JSONCoding.decode(Data($0.utf8)) })
        }
    }

    /// The latest simulated time recorded, so a resumed tabletop continues the same simulated clock.
    package func lastSimulatedSeconds() throws -> Double? {
        try db.queryFirst("SELECT MAX(simulated_seconds) FROM events")?.double(0)
    }

    /// The run's log in order, with each event's detail (read it typed with ``EventRecord/event``).
    package func events() throws -> [EventRecord] {
        try db.query("SELECT seq, at, simulated_seconds, stage_id, operation_key, kind, message, detail FROM events ORDER BY seq").map {
            EventRecord(
                sequence: $0.int(0) ?? 0, at: $0.string(1) ?? "", simulatedSeconds: $0.double(2), stageID: $0.string(3),
                operationKey: $0.string(4), kind: $0.string(5) ?? "", message: $0.string(6) ?? "",
                detail: $0.string(7).flatMap { try? JSONCoding.decode(Data($0.utf8)) })
        }
    }

    // MARK: - Simulated time (tabletop RTO estimates)

    /// Adds simulated seconds a stage spent waiting, by reason (`throttling`, `retry`, `polling`, `people`, …).
    package func addSimulatedWaits(_ waits: [String: Double], stageID: String) throws {
        guard waits.values.contains(where: { $0 > 0 }) else { return }
        try db.transaction {
            for (reason, seconds) in waits.sorted(by: { $0.key < $1.key }) where seconds > 0 {
                try db.run(
                    """
                    INSERT INTO simulated_waits(stage_id, reason, seconds) VALUES (?, ?, ?)
                    ON CONFLICT(stage_id, reason) DO UPDATE SET seconds = seconds + excluded.seconds
                    """, [.text(stageID), .text(reason), .real(seconds)])
            }
        }
    }

    /// Simulated seconds waited per stage and reason.
    package func simulatedWaits() throws -> [String: [String: Double]] {
        var result: [String: [String: Double]] = [:]
        for row in try db.query("SELECT stage_id, reason, seconds FROM simulated_waits") {
            result[row.string(0) ?? "", default: [:]][row.string(1) ?? ""] = row.double(2) ?? 0
        }
        return result
    }

    /// Records the runbook's stage graph (`after:`), for the critical path of an RTO estimate; replaces what was there.
    package func recordStageDependencies(_ dependencies: [(stageID: String, after: [String])]) throws {
        try db.transaction {
            try db.run("DELETE FROM stage_dependencies")
            for (stageID, after) in dependencies {
                for target in after {
                    try db.run(
                        "INSERT OR IGNORE INTO stage_dependencies(stage_id, after_id) VALUES (?, ?)", [.text(stageID), .text(target)])
                }
            }
        }
    }

    /// The stage graph recorded with ``recordStageDependencies(_:)``: each stage's `after` list (nil when never recorded).
    package func stageDependencies() throws -> [String: [String]]? {
        let rows = try db.query("SELECT stage_id, after_id FROM stage_dependencies ORDER BY rowid")
        guard !rows.isEmpty else { return nil }
        var result: [String: [String]] = [:]
        for row in rows { result[row.string(0) ?? "", default: []].append(row.string(1) ?? "") }
        return result
    }
}

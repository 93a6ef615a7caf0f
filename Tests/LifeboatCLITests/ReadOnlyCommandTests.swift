import Foundation
import LifeboatSQLite
import LifeboatTestSupport
import Testing

/// `status`, `report` and `idmap` open the checkpoint read-only: they never change a file, refuse one that is not a
/// checkpoint untouched, and read a checkpoint nobody may write.
@Suite struct ReadOnlyCommandTests {
    static let readers: [[String]] = [
        ["status"], ["status", "--json"], ["report", "--format", "json"], ["report", "--format", "html"],
        ["idmap", "--format", "csv"], ["idmap", "--format", "json"],
    ]

    @Test func aForeignSQLiteDatabaseIsRefusedAndLeftByteIdentical() async throws {
        let directory = try TemporaryDirectory("foreign-db")
        let path = directory.path("other.sqlite")
        do {
            let other = try SQLiteConnection(path: path)
            try other.execute(
                "PRAGMA journal_mode=DELETE; CREATE TABLE invoices(id INTEGER PRIMARY KEY, total REAL); INSERT INTO invoices(total) VALUES (12.5);"
            )
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let listing = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).sorted()
        for command in Self.readers + [["approve", "--gate", "x", "--by", "me"], ["resume"]] {
            let result = try await runLifeboat(command + ["--state", path], in: directory)
            #expect(result.status == 2, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("\(path) is not a Lifeboat checkpoint"), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("CREATE TABLE"), "\(command): \(result.stderr)")
        }
        let tabletop = try await runTabletop(state: path, in: directory)
        #expect(tabletop.status == 2, "\(tabletop.stderr)")
        #expect(tabletop.stderr.contains("is not a Lifeboat checkpoint"), "\(tabletop.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // No journal, WAL or fake-tenant file appeared next to it (the lock files of approve/resume/tabletop aside).
        let after = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            .filter { !$0.hasPrefix("stdout-") && !$0.hasPrefix("stderr-") && !$0.hasSuffix(".lock") }.sorted()
        #expect(after == listing.filter { !$0.hasPrefix("stdout-") && !$0.hasPrefix("stderr-") }, "\(after)")
    }

    @Test func aReadOnlyCheckpointInAReadOnlyDirectoryCanBeRead() async throws {
        let directory = try TemporaryDirectory("read-only-db")
        // Writable again, so that the directory can be removed.
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path("sealed")) }
        try FileManager.default.createDirectory(atPath: directory.path("sealed"), withIntermediateDirectories: false)
        let state = directory.path("sealed/drill.sqlite")
        let run = try await runTabletop(state: state, in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        // SQLite cannot make the WAL index: a directory stands where it would go, as it cannot be created in a read-only
        // directory (this also holds when the tests run as root, whom permissions do not stop).
        if !FileManager.default.fileExists(atPath: state + "-shm") {
            try FileManager.default.createDirectory(atPath: state + "-shm", withIntermediateDirectories: false)
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: state)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: directory.path("sealed"))
        let before = try Data(contentsOf: URL(fileURLWithPath: state))
        for command in Self.readers {
            let result = try await runLifeboat(command + ["--state", state], in: directory)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(!result.stdout.isEmpty)
        }
        let idmap = try await runLifeboat(["idmap", "--state", state, "--format", "csv"], in: directory)
        #expect(idmap.stdout.split(separator: "\n").count > 50)
        #expect(try Data(contentsOf: URL(fileURLWithPath: state)) == before)
    }

    /// A checkpoint holding values no run writes (an objective of 1e300 s, infinite simulated times, a NaN wait)
    /// is still reported: read back defensively, never trapped on.
    @Test func outOfRangeStoredValuesDoNotCrashTheReaders() async throws {
        let directory = try TemporaryDirectory("stored-values")
        let state = directory.path("drill.sqlite")
        let run = try await runTabletop(state: state, in: directory)
        #expect(run.status == 0, "\(run.stderr)")
        do {
            let db = try SQLiteConnection(path: state)
            try db.execute(
                """
                UPDATE run SET record = json_set(record, '$.objectiveSeconds', 1e300), simulated_seconds = 9e999;
                UPDATE stages SET simulated_start = -9e999, simulated_end = 9e999;
                UPDATE simulated_waits SET seconds = 9e999;
                INSERT OR REPLACE INTO simulated_waits(stage_id, reason, seconds) VALUES ('users', 'throttling', 9e999);
                """)
        }
        for command in Self.readers + [["report", "--format", "markdown"]] {
            let result = try await runLifeboat(command + ["--state", state], in: directory)
            #expect(!result.killedBySignal, "\(command) trapped: \(result.stderr)")
            #expect(result.status == 0, "\(command): \(result.status) \(result.stderr)")
        }
    }

    @Test(arguments: [("a directory", "dir"), ("a FIFO (named pipe)", "fifo"), ("a character device", "/dev/zero")])
    func aStateThatIsNotAFileIsNamedForWhatItIs(_ kind: String, _ name: String) async throws {
        let directory = try TemporaryDirectory("state-kind")
        let path = name.hasPrefix("/") ? name : directory.path(name)
        if name == "dir" { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false) }
        if name == "fifo" { #expect(mkfifo(path, 0o600) == 0) }
        for command in [["status"], ["report"], ["idmap"], ["resume"]] {
            let result = try await runLifeboat(command + ["--state", path], in: directory)
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr.contains("\(path) is \(kind)"), "\(command): \(result.stderr)")
        }
        let tabletop = try await runTabletop(state: path, in: directory)
        #expect(tabletop.status == 2, "\(tabletop.stderr)")
        #expect(tabletop.stderr.contains("is \(kind)"), "\(tabletop.stderr)")
    }
}

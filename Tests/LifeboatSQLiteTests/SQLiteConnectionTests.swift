import Foundation
import LifeboatSQLite
import LifeboatTestSupport
import Testing

/// The SQLite wrapper that the checkpoint store and the fake tenant stand on: values round-trip exactly,
/// transactions commit or roll back whole, and errors name the file and the statement.
@Suite struct SQLiteConnectionTests {
    @Test func valuesRoundTripExactly() throws {
        let directory = try TemporaryDirectory("sqlite")
        let db = try SQLiteConnection(path: directory.path("values.sqlite"))
        try db.execute("CREATE TABLE t (v)")
        let values: [SQLiteValue] = [
            .null, .integer(Int64.max), .integer(Int64.min), .real(-0.5), .text(""), .text("Zoë — 東京 \u{1F6DF}"),
            .text("a\u{0}b"), .text("line\r\nbreak"), .blob(Data()), .blob(Data([0, 255, 0, 1])),
        ]
        for value in values { try db.run("INSERT INTO t (v) VALUES (?)", [value]) }
        let read = try db.query("SELECT v FROM t ORDER BY rowid").map { $0[0] }
        // An empty blob stays a blob and an embedded NUL stays in the text (neither becomes NULL nor is cut).
        #expect(read == values)
    }

    @Test func aFailedTransactionLeavesNothingAndNestedCallsJoinTheOuterOne() throws {
        let directory = try TemporaryDirectory("sqlite")
        let db = try SQLiteConnection(path: directory.path("tx.sqlite"))
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try db.transaction {
                try db.run("INSERT INTO t VALUES ('a')")
                try db.transaction { try db.run("INSERT INTO t VALUES ('b')") }
                throw Stop()
            }
        }
        #expect(try db.query("SELECT k FROM t").isEmpty)

        let count = try db.transaction {
            try db.run("INSERT INTO t VALUES ('a')")
            try db.transaction { try db.run("INSERT INTO t VALUES ('b')") }
            return try db.queryFirst("SELECT count(*) FROM t")?.int(0)
        }
        #expect(count == 2)
        // The connection is usable after both outcomes: a new transaction can begin.
        try db.transaction { try db.run("INSERT INTO t VALUES ('c')") }
        #expect(try db.queryFirst("SELECT count(*) FROM t")?.int(0) == 3)
    }

    @Test func committedRowsAreSeenByAnotherConnection() throws {
        let directory = try TemporaryDirectory("sqlite")
        let path = directory.path("shared.sqlite")
        let writer = try SQLiteConnection(path: path)
        try writer.execute("CREATE TABLE t (k INTEGER)")
        let reader = try SQLiteConnection(path: path)
        try writer.transaction { try writer.run("INSERT INTO t VALUES (1)") }
        #expect(try reader.queryFirst("SELECT count(*) FROM t")?.int(0) == 1)
    }

    @Test func errorsNameTheFileTheStatementAndSQLitesCode() throws {
        let directory = try TemporaryDirectory("sqlite")
        let path = directory.path("errors.sqlite")
        let db = try SQLiteConnection(path: path)
        try db.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
        try db.run("INSERT INTO t VALUES (?)", ["x"])
        let duplicate = try #require(throws: SQLiteError.self) { try db.run("INSERT INTO t VALUES (?)", ["x"]) }
        #expect(duplicate.code == 19)  // SQLITE_CONSTRAINT
        #expect(duplicate.path == path)
        #expect(duplicate.sql == "INSERT INTO t VALUES (?)")
        #expect(duplicate.description.contains(path))
        // The cached statement was reset: the same statement works again with other values.
        #expect(try db.run("INSERT INTO t VALUES (?)", ["y"]) == 1)

        let syntax = try #require(throws: SQLiteError.self) { try db.query("SELEC nothing") }
        #expect(syntax.sql == "SELEC nothing")

        let missing = directory.path("no-such-dir/db.sqlite")
        let unopenable = try #require(throws: SQLiteError.self) { try SQLiteConnection(path: missing) }
        #expect(unopenable.path == missing)
    }

    @Test func forEachRowStreamsAndStopsOnAThrow() throws {
        let directory = try TemporaryDirectory("sqlite")
        let db = try SQLiteConnection(path: directory.path("rows.sqlite"))
        try db.execute("CREATE TABLE t (n INTEGER)")
        try db.transaction { for n in 0..<100 { try db.run("INSERT INTO t VALUES (?)", [.integer(Int64(n))]) } }
        struct Enough: Error {}
        var seen = 0
        #expect(throws: Enough.self) {
            try db.forEachRow("SELECT n FROM t ORDER BY n") { row in
                seen += 1
                if row.int(0) == 9 { throw Enough() }
            }
        }
        #expect(seen == 10)
        // The statement was reset by the throw: the same query runs again from the start.
        var total = 0
        try db.forEachRow("SELECT n FROM t ORDER BY n") { total += $0.int(0) ?? 0 }
        #expect(total == 4_950)
        #expect(db.lastInsertRowID == 100)
    }
}

import CLifeboatSQLite
import Dispatch
import Foundation

/// A value bound to, or read from, a SQLite statement.
package enum SQLiteValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)

    /// The text, if the column holds text.
    package var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The integer, if the column holds one.
    package var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The real number (integers widen), if the column holds a number.
    package var real: Double? {
        switch self {
        case .real(let value): return value
        case .integer(let value): return Double(value)
        default: return nil
        }
    }
}

extension SQLiteValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    package init(stringLiteral value: String) { self = .text(value) }
    package init(integerLiteral value: Int64) { self = .integer(value) }
    package init(nilLiteral: ()) { self = .null }
}

extension Optional where Wrapped == String {
    /// `.text` for a string, `.null` for `nil`.
    package var sqlite: SQLiteValue { map(SQLiteValue.text) ?? .null }
}

/// A failure reported by SQLite, with the statement that caused it.
package struct SQLiteError: Error, CustomStringConvertible, Sendable {
    /// SQLite's primary result code.
    package var code: Int32
    /// SQLite's message.
    package var message: String
    /// The statement, when one was being prepared or run.
    package var sql: String?
    /// The database file.
    package var path: String

    package var description: String {
        var text = "SQLite error \(code) in \(path): \(message)"
        if let sql { text += " (while running: \(sql.prefix(120)))" }
        if code == SQLITE_BUSY || code == SQLITE_LOCKED {
            text += " — another lifeboat process may be using this database; stop it or pass another --state"
        }
        return text
    }
}

/// One row of a query result, read by column index.
package struct SQLiteRow: Sendable {
    /// The column values in the order of the SELECT list.
    package var values: [SQLiteValue]

    package subscript(index: Int) -> SQLiteValue { values[index] }

    /// The column as text, or `nil` when it is NULL or not text.
    package func string(_ index: Int) -> String? { values[index].text }

    /// The column as an integer, or `nil`.
    package func int(_ index: Int) -> Int? { values[index].integer.map { Int($0) } }

    /// The column as a double, or `nil`.
    package func double(_ index: Int) -> Double? { values[index].real }
}

/// A connection to one SQLite database file, in WAL mode.
///
/// Not thread-safe by itself: each owner (the checkpoint store, the fake tenant) keeps its
/// connection inside an actor, so every call is serialised.
package final class SQLiteConnection {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private var transactionDepth = 0
    /// The database file this connection opened.
    package let path: String

    /// Opens the database at `path` read-only: nothing is created, no pragma is set, the file is never written (a
    /// database in a read-only file or directory is read as immutable).
    package init(readingOnly path: String) throws {
        self.path = path
        var db: OpaquePointer?
        var status = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        if status == SQLITE_OK, let opened = db {
            // A WAL database needs its -shm file; where it cannot be created, read the file as immutable instead.
            let probe = sqlite3_exec(opened, "SELECT count(*) FROM sqlite_master", nil, nil, nil)
            if probe != SQLITE_OK {
                sqlite3_close(opened)
                db = nil
                let uri = "file:" + Self.uriEscaped(path) + "?immutable=1"
                status = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nil)
            }
        }
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: status, message: message, sql: nil, path: path)
        }
        handle = db
    }

    private static func uriEscaped(_ path: String) -> String {
        var out = ""
        for byte in path.utf8 {
            if byte == UInt8(ascii: "%") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "#") || byte < 0x20 || byte >= 0x7F {
                out += String(format: "%%%02X", byte)
            } else {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return out
    }

    /// Opens (creating when missing) the database at `path` and enables WAL and foreign keys.
    package init(path: String) throws {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw SQLiteError(code: status, message: message, sql: nil, path: path)
        }
        handle = db
        sqlite3_busy_timeout(db, 5_000)
        // A 32 MB page cache (SQLite's default is 2 MB): the checkpoint and the fake tenant of a 100,000-user
        // tabletop otherwise re-read their index pages from the file on most statements.
        try execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;")
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// Runs one or more statements that take no parameters (schema, pragmas).
    package func execute(_ sql: String) throws {
        var errorMessage: UnsafeMutablePointer<CChar>?
        let status = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        if status != SQLITE_OK {
            let message = errorMessage.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(errorMessage)
            throw SQLiteError(code: status, message: message, sql: sql, path: path)
        }
    }

    /// Runs a statement with parameters and returns the number of rows it changed.
    @discardableResult
    package func run(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        try bind(bindings, to: statement, sql: sql)
        let status = sqlite3_step(statement)
        guard status == SQLITE_DONE || status == SQLITE_ROW else { throw error(status, sql) }
        return Int(sqlite3_changes(handle))
    }

    /// Runs a query and returns every row.
    package func query(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> [SQLiteRow] {
        var rows: [SQLiteRow] = []
        try forEachRow(sql, bindings) { rows.append($0) }
        return rows
    }

    /// Runs a query and returns the first row, if any.
    package func queryFirst(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> SQLiteRow? {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        try bind(bindings, to: statement, sql: sql)
        let status = sqlite3_step(statement)
        switch status {
        case SQLITE_ROW: return row(of: statement)
        case SQLITE_DONE: return nil
        default: throw error(status, sql)
        }
    }

    /// Runs a query and hands each row to `body` without collecting them.
    package func forEachRow(_ sql: String, _ bindings: [SQLiteValue] = [], _ body: (SQLiteRow) throws -> Void) throws {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        try bind(bindings, to: statement, sql: sql)
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { throw error(status, sql) }
            try body(row(of: statement))
        }
    }

    /// Runs `body` inside one transaction (nested calls join the outer one); rolls back on error.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        if transactionDepth > 0 {
            transactionDepth += 1
            defer { transactionDepth -= 1 }
            return try body()
        }
        try execute("BEGIN IMMEDIATE")
        transactionDepth = 1
        do {
            let result = try body()
            transactionDepth = 0
            try execute("COMMIT")
            return result
        } catch {
            transactionDepth = 0
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// The rowid of the last inserted row.
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    // MARK: - Internals

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        let status = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard status == SQLITE_OK, let statement else { throw error(status, sql) }
        statements[sql] = statement
        return statement
    }

    private func bind(_ bindings: [SQLiteValue], to statement: OpaquePointer, sql: String) throws {
        sqlite3_clear_bindings(statement)
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .null: status = sqlite3_bind_null(statement, index)
            case .integer(let int): status = sqlite3_bind_int64(statement, index, int)
            case .real(let double): status = sqlite3_bind_double(statement, index, double)
            case .text(let string):
                status = string.utf8CString.withUnsafeBufferPointer { buffer in
                    lifeboat_sqlite3_bind_text(statement, index, buffer.baseAddress, Int32(buffer.count - 1))
                }
            case .blob(let data):
                status = data.withUnsafeBytes { raw in
                    lifeboat_sqlite3_bind_blob(statement, index, raw.baseAddress, Int32(raw.count))
                }
            }
            guard status == SQLITE_OK else { throw error(status, sql) }
        }
    }

    private func row(of statement: OpaquePointer) -> SQLiteRow {
        let count = sqlite3_column_count(statement)
        var values: [SQLiteValue] = []
        values.reserveCapacity(Int(count))
        for column in 0..<count {
            switch sqlite3_column_type(statement, column) {
            case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
            case SQLITE_FLOAT: values.append(.real(sqlite3_column_double(statement, column)))
            case SQLITE_TEXT:
                let length = Int(sqlite3_column_bytes(statement, column))
                if let pointer = sqlite3_column_text(statement, column) {
                    let buffer = UnsafeBufferPointer(start: pointer, count: length)
                    values.append(.text(String(decoding: buffer, as: UTF8.self)))
                } else {
                    values.append(.text(""))
                }
            case SQLITE_BLOB:
                let length = Int(sqlite3_column_bytes(statement, column))
                if let pointer = sqlite3_column_blob(statement, column) {
                    values.append(.blob(Data(bytes: pointer, count: length)))
                } else {
                    values.append(.blob(Data()))
                }
            default: values.append(.null)
            }
        }
        return SQLiteRow(values: values)
    }

    private func error(_ status: Int32, _ sql: String) -> SQLiteError {
        SQLiteError(code: status, message: String(cString: sqlite3_errmsg(handle)), sql: sql, path: path)
    }
}

extension SQLiteError {
    package init(code: Int32, message: String, path: String) {
        self.init(code: code, message: message, sql: nil, path: path)
    }
}

/// A serial executor that runs an actor's jobs on its own dispatch queue, so that blocking
/// SQLite calls never occupy a thread of Swift's cooperative pool.
package final class DispatchQueueExecutor: SerialExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    package init(label: String) {
        queue = DispatchQueue(label: label)
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    package func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}

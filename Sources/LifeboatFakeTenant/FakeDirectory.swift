import Foundation
import LifeboatJSON
import LifeboatSQLite

/// The fake tenant's directory: objects by id, their links (members, owners), and uniqueness
/// indexes, kept in memory and written through to SQLite so that a killed run finds it again.
final class FakeDirectory {
    /// One stored object.
    struct Entry {
        var type: String
        var sequence: Int64
        /// The change sequence of the last write, for delta queries.
        var changed: Int64 = 0
        fileprivate var stored: Stored

        /// The object's properties (parsed here when the entry still holds its JSON text; ``FakeDirectory/object(_:)``
        /// parses once and keeps the result).
        var properties: JSONObject {
            get {
                switch stored {
                case .parsed(let properties): return properties
                case .text(let text): return Self.parse(text) ?? [:]
                }
            }
            set { stored = .parsed(newValue) }
        }

        init(type: String, properties: JSONObject, sequence: Int64, changed: Int64 = 0) {
            self.type = type
            self.sequence = sequence
            self.changed = changed
            stored = .parsed(properties)
        }

        fileprivate init(type: String, text: String, sequence: Int64, changed: Int64) {
            self.type = type
            self.sequence = sequence
            self.changed = changed
            stored = .text(text)
        }

        fileprivate static func parse(_ text: String) -> JSONObject? { try? JSONCoding.decode(Data(text.utf8)).objectValue }

        /// Parses the JSON text, if the entry still holds it.
        fileprivate mutating func materialize() {
            if case .text(let text) = stored { stored = .parsed(Self.parse(text) ?? [:]) }
        }
    }

    /// An object's properties as parsed values, or, for an object loaded from the state file and not read since, as the
    /// JSON text the file holds: reopening a tenant of 100,000 users then parses only what the run reads.
    fileprivate enum Stored {
        case parsed(JSONObject)
        case text(String)
    }

    /// An object in the directory recycle bin.
    struct DeletedEntry {
        var type: String
        var properties: JSONObject
        /// Seconds since 1970 on the tenant's clock.
        var deletedAt: Double
    }

    private let db: SQLiteConnection?
    private(set) var objects: [String: Entry] = [:]
    /// Ids per type in creation order.
    private(set) var idsByType: [String: [String]] = [:]
    /// `source id` → relation → ordered target ids.
    private(set) var links: [String: [String: [String]]] = [:]
    /// The same links as a set, so membership checks stay O(1) on groups of 100,000 members.
    private var linkIndex: Set<LinkKey> = []

    struct LinkKey: Hashable {
        var source: String
        var relation: String
        var target: String
    }
    /// Type → unique property → lower-cased value → id, for alternate keys and uniqueness. Nested rather than one
    /// `type|property|value` string per key: a look-up builds no key, and a value already in lower case shares its
    /// storage with the object's property instead of holding a copy.
    private var keys: [String: [String: [String: String]]] = [:]
    /// Lower-cased mail nicknames of groups → how many groups hold each: a new Microsoft 365 group's must be unused.
    private var groupNicknames: [String: Int] = [:]
    private var nextSequence: Int64 = 0
    /// Soft-deleted objects by id.
    private(set) var deleted: [String: DeletedEntry] = [:]
    /// Deletions for delta queries: (change sequence, id, type).
    private(set) var tombstones: [(sequence: Int64, id: String, type: String)] = []
    /// In-memory only: just-created objects not yet visible to references and lists (replication lag).
    var replicationLag = ReplicationLag()

    /// The latest change sequence, for delta links.
    var currentChange: Int64 { nextSequence }
    /// Settings and counters: tenantId, initialDomain, writes.
    private(set) var settings: [String: String] = [:]

    /// Properties that identify an object and must be unique per type.
    static let uniqueProperties: [String: [String]] = [
        // `mail` is a primary SMTP address, unique in a tenant; indexing it keeps guest look-ups O(1).
        "user": ["userPrincipalName", "mail"],
        "group": ["uniqueName"],
        "application": ["uniqueName", "appId"],
        "servicePrincipal": ["appId"],
        "domain": ["id"],
    ]

    init(path: String?) throws {
        if let path {
            let db = try SQLiteConnection(path: path)
            // A fake tenant must survive its process being killed (the OS keeps committed pages), not a power cut:
            // no fsync, which a tabletop of 100,000 users would otherwise pay at every WAL checkpoint.
            try db.execute("PRAGMA synchronous=OFF;")
            try db.execute(
                """
                CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS objects(id TEXT PRIMARY KEY, type TEXT NOT NULL, json TEXT NOT NULL, seq INTEGER NOT NULL,
                                                   changed INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE IF NOT EXISTS deleted_objects(id TEXT PRIMARY KEY, type TEXT NOT NULL, json TEXT NOT NULL, deleted_at REAL NOT NULL);
                CREATE TABLE IF NOT EXISTS tombstones(seq INTEGER PRIMARY KEY, id TEXT NOT NULL, type TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS links(source TEXT NOT NULL, relation TEXT NOT NULL, target TEXT NOT NULL, seq INTEGER NOT NULL,
                                                 PRIMARY KEY(source, relation, target));
                """)
            self.db = db
            try load(db)
        } else {
            db = nil
        }
    }

    private func load(_ db: SQLiteConnection) throws {
        for row in try db.query("SELECT key, value FROM settings") {
            settings[row.string(0) ?? ""] = row.string(1) ?? ""
        }
        try db.forEachRow("SELECT id, type, json, seq, changed FROM objects ORDER BY seq") { row in
            guard let id = row.string(0), let type = row.string(1) else { return }
            let text = row.string(2) ?? "{}"
            let sequence = row[3].integer ?? 0, changed = row[4].integer ?? 0
            // Only the indexed properties are read now; the rest is parsed when the object is first read. Text the scan
            // cannot read (escapes in an indexed value) is parsed at once, and a row that does not parse is skipped.
            var indexed: JSONObject
            if let strings = TopLevelStrings.read(text, Self.indexedProperties(type)) {
                indexed = strings.mapValues(JSONValue.string)
                objects[id] = Entry(type: type, text: text, sequence: sequence, changed: changed)
            } else {
                guard let properties = Entry.parse(text) else { return }
                indexed = properties
                objects[id] = Entry(type: type, properties: properties, sequence: sequence, changed: changed)
            }
            idsByType[type, default: []].append(id)
            index(id: id, type: type, properties: indexed)
            nextSequence = max(nextSequence, sequence + 1, changed + 1)
        }
        try db.forEachRow("SELECT id, type, json, deleted_at FROM deleted_objects") { row in
            guard let id = row.string(0), let type = row.string(1),
                let json = try? JSONCoding.decode(Data((row.string(2) ?? "{}").utf8)).objectValue
            else { return }
            deleted[id] = DeletedEntry(type: type, properties: json, deletedAt: row.double(3) ?? 0)
        }
        try db.forEachRow("SELECT seq, id, type FROM tombstones ORDER BY seq") { row in
            tombstones.append((row[0].integer ?? 0, row.string(1) ?? "", row.string(2) ?? ""))
            nextSequence = max(nextSequence, (row[0].integer ?? 0) + 1)
        }
        try db.forEachRow("SELECT source, relation, target FROM links ORDER BY seq") { row in
            let key = LinkKey(source: stored(row.string(0) ?? ""), relation: row.string(1) ?? "", target: stored(row.string(2) ?? ""))
            links[key.source, default: [:]][key.relation, default: []].append(key.target)
            linkIndex.insert(key)
        }
    }

    // MARK: - Settings

    func setting(_ key: String) -> String? { settings[key] }

    func setSetting(_ key: String, _ value: String) throws {
        settings[key] = value
        try db?.run(
            "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [.text(key), .text(value)])
    }

    // MARK: - Objects

    func object(_ id: String) -> Entry? {
        guard let index = objects.index(forKey: id) else { return nil }
        objects.values[index].materialize()
        return objects.values[index]
    }

    /// The stored entry as it is, for its type: an entry not read since it was loaded parses its properties on each read
    /// of them (``object(_:)`` parses them once and keeps them).
    func entry(_ id: String) -> Entry? { objects[id] }

    /// The properties ``index(id:type:properties:)`` reads for an object of `type`.
    private static func indexedProperties(_ type: String) -> [String] {
        (uniqueProperties[type] ?? []) + (type == "group" ? ["mailNickname"] : [])
    }

    func ids(ofType type: String) -> [String] { idsByType[type] ?? [] }

    /// The id of the object of `type` whose unique `property` equals `value` (case-insensitive).
    func lookup(_ type: String, _ property: String, _ value: String) -> String? {
        keys[type]?[property]?[Self.folded(value)]
    }

    /// `value` in lower case, without a copy when it already is (most UPNs and addresses are).
    static func folded(_ value: String) -> String {
        value.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || $0 >= 0x80 } ? value.lowercased() : value
    }

    private func index(id: String, type: String, properties: JSONObject) {
        for property in Self.uniqueProperties[type] ?? [] {
            if let value = properties[property]?.stringValue { keys[type, default: [:]][property, default: [:]][Self.folded(value)] = id }
        }
        if let nickname = Self.groupNickname(type, properties) { groupNicknames[nickname, default: 0] += 1 }
    }

    private func unindex(id: String, type: String, properties: JSONObject) {
        for property in Self.uniqueProperties[type] ?? [] {
            if let value = properties[property]?.stringValue { keys[type]?[property]?[Self.folded(value)] = nil }
        }
        if let nickname = Self.groupNickname(type, properties), let count = groupNicknames[nickname] {
            groupNicknames[nickname] = count > 1 ? count - 1 : nil
        }
    }

    private static func groupNickname(_ type: String, _ properties: JSONObject) -> String? {
        type == "group" ? properties["mailNickname"]?.stringValue?.lowercased() : nil
    }

    /// Whether a group already uses `nickname` (case-insensitive).
    func hasGroup(nickname: String) -> Bool { groupNicknames[nickname.lowercased()] != nil }

    /// Stores a new or changed object (in the caller's transaction).
    func put(_ id: String, type: String, properties: JSONObject) throws {
        let change = nextSequence
        nextSequence += 1
        if let existing = objects[id] {
            unindex(id: id, type: existing.type, properties: existing.properties)
            objects[id] = Entry(type: type, properties: properties, sequence: existing.sequence, changed: change)
        } else {
            objects[id] = Entry(type: type, properties: properties, sequence: change, changed: change)
            idsByType[type, default: []].append(id)
        }
        index(id: id, type: type, properties: properties)
        try db?.run(
            """
            INSERT INTO objects(id, type, json, seq, changed) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET json = excluded.json, type = excluded.type, changed = excluded.changed
            """, [.text(id), .text(type), .text(JSONCoding.string(.object(properties))), .integer(objects[id]!.sequence), .integer(change)])
    }

    /// Marks an object changed (a link was added or removed) for delta queries.
    func touch(_ id: String) throws {
        guard var entry = objects[id] else { return }
        // Only the change sequence moves: the stored JSON is unchanged, so it is not written again.
        entry.changed = nextSequence
        nextSequence += 1
        objects[id] = entry
        try db?.run("UPDATE objects SET changed = ? WHERE id = ?", [.integer(entry.changed), .text(id)])
    }

    /// Removes an object and every link from or to it.
    func remove(_ id: String) throws {
        guard let existing = objects.removeValue(forKey: id) else { return }
        unindex(id: id, type: existing.type, properties: existing.properties)
        idsByType[existing.type]?.removeAll { $0 == id }
        for (relation, targets) in links[id] ?? [:] {
            for target in targets { linkIndex.remove(LinkKey(source: id, relation: relation, target: target)) }
        }
        links[id] = nil
        for key in linkIndex.filter({ $0.target == id }) {
            linkIndex.remove(key)
            links[key.source]?[key.relation]?.removeAll { $0 == id }
        }
        let change = nextSequence
        nextSequence += 1
        tombstones.append((change, id, existing.type))
        try db?.run("DELETE FROM objects WHERE id = ?", [.text(id)])
        try db?.run("DELETE FROM links WHERE source = ? OR target = ?", [.text(id), .text(id)])
        try db?.run("INSERT INTO tombstones(seq, id, type) VALUES (?, ?, ?)", [.integer(change), .text(id), .text(existing.type)])
    }

    /// Moves an object to the recycle bin (its links are dropped, as in Graph).
    func softDelete(_ id: String, at time: Date) throws {
        guard let existing = objects[id] else { return }
        var properties = existing.properties
        properties["deletedDateTime"] = .string(ISO8601DateFormatter().string(from: time))
        try remove(id)
        deleted[id] = DeletedEntry(type: existing.type, properties: properties, deletedAt: time.timeIntervalSince1970)
        try db?.run(
            "INSERT OR REPLACE INTO deleted_objects(id, type, json, deleted_at) VALUES (?, ?, ?, ?)",
            [.text(id), .text(existing.type), .text(JSONCoding.string(.object(properties))), .real(time.timeIntervalSince1970)])
    }

    /// Takes an object out of the recycle bin with its original id.
    func restore(_ id: String) throws -> Entry? {
        guard let entry = deleted.removeValue(forKey: id) else { return nil }
        var properties = entry.properties
        properties["deletedDateTime"] = .null
        try db?.run("DELETE FROM deleted_objects WHERE id = ?", [.text(id)])
        try put(id, type: entry.type, properties: properties)
        return objects[id]
    }

    /// Deletes an object from the recycle bin for good.
    func purge(_ id: String) throws {
        deleted[id] = nil
        try db?.run("DELETE FROM deleted_objects WHERE id = ?", [.text(id)])
    }

    // MARK: - Links

    func targets(of source: String, _ relation: String) -> [String] { links[source]?[relation] ?? [] }

    func hasLink(_ source: String, _ relation: String, _ target: String) -> Bool {
        linkIndex.contains(LinkKey(source: source, relation: relation, target: target))
    }

    /// Adds a link; the caller touches the source once per request for delta queries.
    func addLink(_ source: String, _ relation: String, _ target: String) throws {
        // The ids as the directory already holds them: a link then shares their storage instead of keeping its own
        // copies (a tenant of 100,000 users holds hundreds of thousands of links).
        let source = stored(source), target = stored(target)
        guard linkIndex.insert(LinkKey(source: source, relation: relation, target: target)).inserted else { return }
        links[source, default: [:]][relation, default: []].append(target)
        try db?.run(
            "INSERT OR IGNORE INTO links(source, relation, target, seq) VALUES (?, ?, ?, ?)",
            [.text(source), .text(relation), .text(target), .integer(nextSequence)])
    }

    /// `id` as the key of its object in ``objects`` (the same storage), or `id` itself when no object has it.
    private func stored(_ id: String) -> String {
        objects.index(forKey: id).map { objects.keys[$0] } ?? id
    }

    func removeLink(_ source: String, _ relation: String, _ target: String) throws {
        guard linkIndex.remove(LinkKey(source: source, relation: relation, target: target)) != nil else { return }
        links[source]?[relation]?.removeAll { $0 == target }
        try db?.run("DELETE FROM links WHERE source = ? AND relation = ? AND target = ?", [.text(source), .text(relation), .text(target)])
    }

    // MARK: - Transactions

    /// Set while a write request is handled: its first transaction also adds it to the `writes` counter, so that a
    /// write costs one commit instead of two. When no transaction consumes it, the tenant counts the write itself.
    var countsNextWrite = false

    /// The number of writes the tenant has accepted (kept in `settings` so that it survives reopening).
    var writes: Int { Int(settings["writes"] ?? "0") ?? 0 }

    /// Adds one to the write counter (in the caller's transaction, if any).
    func countWrite() throws {
        countsNextWrite = false
        try setSetting("writes", String(writes + 1))
    }

    /// Inside the body's transaction: a failure here rolls the write back with it.
    private func countWriteIfDue() throws {
        guard countsNextWrite else { return }
        try countWrite()
    }

    /// While set, each write is a savepoint in one open SQLite transaction that ``commitDeferred()`` commits: a
    /// tabletop's in-process tenant commits once per window of writes instead of once per write (the executor asks
    /// for the commit before its checkpoint records the results). Writes lost to a kill before that commit were never
    /// acknowledged to a checkpoint, so a resumed run looks them up, does not find them and sends them again.
    var defersCommits = false
    private var deferredOpen = false

    /// Commits the writes deferred so far.
    func commitDeferred() throws {
        guard deferredOpen, let db else { return }
        deferredOpen = false
        try db.execute("COMMIT")
    }

    /// Runs a write atomically. Handlers validate before they change anything; if SQLite still fails
    /// mid-write, the in-memory state is reloaded from the last committed transaction (savepoint, when deferring).
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard let db else {
            let result = try body()
            try countWriteIfDue()
            return result
        }
        do {
            if defersCommits {
                if !deferredOpen {
                    try db.execute("BEGIN IMMEDIATE")
                    deferredOpen = true
                }
                // Prepared once (run, not execute): a tabletop opens one savepoint per write.
                try db.run("SAVEPOINT write")
                do {
                    let result = try body()
                    try countWriteIfDue()
                    try db.run("RELEASE write")
                    return result
                } catch {
                    _ = try? db.run("ROLLBACK TO write")
                    _ = try? db.run("RELEASE write")
                    throw error
                }
            }
            // A write outside a Graph request (the operator API, an import) commits what is deferred first.
            try commitDeferred()
            return try db.transaction {
                let result = try body()
                try countWriteIfDue()
                return result
            }
        } catch {
            objects = [:]
            idsByType = [:]
            links = [:]
            linkIndex = []
            keys = [:]
            groupNicknames = [:]
            settings = [:]
            deleted = [:]
            tombstones = []
            try? load(db)
            throw error
        }
    }
}

/// The top-level string members of a JSON object text, read without building the object (a reopened tenant indexes its
/// objects' unique properties this way and parses each object only when it is read).
package enum TopLevelStrings {
    /// The string values of the members named `names`, or `nil` when the text is not an object this scan reads: then the
    /// caller parses it. Members that are not strings are left out, as they would not be indexed.
    package static func read(_ text: String, _ names: [String]) -> [String: String]? {
        var text = text
        return text.withUTF8 { bytes in read(bytes, names) }
    }

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>, _ names: [String]) -> [String: String]? {
        var found: [String: String] = [:]
        var position = 0
        func skipSpace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "{") else { return nil }
        position += 1
        skipSpace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { return found }
        while true {
            skipSpace()
            guard let key = string(bytes, &position) else { return nil }
            skipSpace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            position += 1
            skipSpace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "\""), names.contains(key) {
                guard let value = string(bytes, &position) else { return nil }
                found[key] = value
            } else {
                guard skipValue(bytes, &position) else { return nil }
            }
            skipSpace()
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            return bytes[position] == UInt8(ascii: "}") ? found : nil
        }
    }

    /// A string without escapes at `position` (its opening quote); `nil` for anything else.
    private static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> String? {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { return nil }
        let start = position + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            if bytes[end] == UInt8(ascii: "\\") { return nil }
            end += 1
        }
        guard end < bytes.count else { return nil }
        position = end + 1
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
    }

    /// Moves past one value (string, number, literal, or a nested object or array with its strings); `false` when the
    /// text ends first.
    private static func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, _ position: inout Int) -> Bool {
        var depth = 0
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                position += 1
                while position < bytes.count, bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard position < bytes.count else { return false }
                position += 1
                if depth == 0 { return true }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                position += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return true }
                depth -= 1
                position += 1
                if depth == 0 { return true }
            case UInt8(ascii: ","):
                if depth == 0 { return true }
                position += 1
            default:
                position += 1
            }
        }
        return depth == 0
    }
}

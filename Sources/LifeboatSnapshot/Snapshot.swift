import Crypto
import Foundation
import LifeboatJSON

/// What a snapshot's `manifest.json` says: where it came from and the SHA-256 of every file.
package struct SnapshotManifest: Codable, Sendable, Hashable {
    /// One data file's hash and object count.
    package struct FileEntry: Codable, Sendable, Hashable {
        package var sha256: String
        package var count: Int?
        package init(sha256: String, count: Int?) {
            self.sha256 = sha256
            self.count = count
        }
    }

    package var formatVersion: Int
    package var sourceTenantId: String
    package var sourceInitialDomain: String?
    /// When the source tenant was read, ISO 8601.
    package var capturedAt: String
    package var toolVersion: String?
    package var files: [String: FileEntry]

    package init(
        formatVersion: Int = 1, sourceTenantId: String, sourceInitialDomain: String?, capturedAt: String, toolVersion: String?,
        files: [String: FileEntry]
    ) {
        self.formatVersion = formatVersion
        self.sourceTenantId = sourceTenantId
        self.sourceInitialDomain = sourceInitialDomain
        self.capturedAt = capturedAt
        self.toolVersion = toolVersion
        self.files = files
    }

    /// The capture time, when it parses.
    package var capturedDate: Date? {
        ISO8601DateFormatter().date(from: capturedAt)
    }
}

/// A snapshot that could not be loaded: the file, the place in it, the field, and what to do.
package struct SnapshotError: Error, Sendable, Equatable, CustomStringConvertible {
    package var file: String
    /// Where in the file, e.g. `value[3] (id 1f2e…)`, or empty for the whole file.
    package var location: String
    package var field: String?
    package var problem: String
    package var hint: String?

    package init(file: String, location: String = "", field: String? = nil, problem: String, hint: String? = nil) {
        self.file = file
        self.location = location
        self.field = field
        self.problem = problem
        self.hint = hint
    }

    package var description: String {
        var text = file
        if !location.isEmpty { text += ": \(location)" }
        if let field { text += ": \(field)" }
        text += ": \(problem)"
        if let hint { text += " — \(hint)" }
        return text
    }
}

/// A verified, typed offline backup of a tenant.
package struct Snapshot: Sendable {
    package var directory: URL
    package var manifest: SnapshotManifest
    /// SHA-256 of `manifest.json`, which (through the per-file hashes) identifies the whole snapshot.
    package var manifestSHA256: String
    /// The exact bytes of `manifest.json` as they were read, once, by ``load(from:)``: the bytes whose hash every data
    /// file was checked against, and the bytes a signature must cover (the file is never read again).
    package internal(set) var manifestData = Data()

    package var organization: [Organization] = []
    package var domains: [Domain] = []
    package var users: [User] = []
    package var groups: [Group] = []
    package var administrativeUnits: [AdministrativeUnit] = []
    package var applications: [Application] = []
    package var servicePrincipals: [ServicePrincipal] = []
    package var appRoleAssignments: [AppRoleAssignment] = []
    package var oauth2PermissionGrants: [OAuth2PermissionGrant] = []
    package var roleDefinitions: [RoleDefinition] = []
    package var roleAssignments: [RoleAssignment] = []
    package var namedLocations: [NamedLocation] = []
    package var conditionalAccessPolicies: [ConditionalAccessPolicy] = []

    /// The type of every object id in the snapshot.
    package private(set) var typeByID: [String: ObjectType] = [:]

    /// Objects per type, for summaries and plans.
    package var counts: [ObjectType: Int] {
        [
            .organization: organization.count, .domain: domains.count, .user: users.count, .group: groups.count,
            .administrativeUnit: administrativeUnits.count, .application: applications.count,
            .servicePrincipal: servicePrincipals.count, .appRoleAssignment: appRoleAssignments.count,
            .oauth2PermissionGrant: oauth2PermissionGrants.count, .roleDefinition: roleDefinitions.count,
            .roleAssignment: roleAssignments.count, .namedLocation: namedLocations.count,
            .conditionalAccessPolicy: conditionalAccessPolicies.count,
        ]
    }

    /// The largest manifest read (16 MiB: a manifest lists a few dozen files).
    package static let manifestLimit = 16 << 20
    /// The largest snapshot file read: 4 GiB. A generated 1,000,000-user tenant's groups.json (every membership as a
    /// reference) is 1.3 GB, over the 1 GiB other inputs are held to, and a capture of such a tenant writes the same.
    package static let fileLimit = 4 << 30

    /// The name of the manifest file in a snapshot directory.
    package static let manifestFileName = "manifest.json"

    /// Loads a snapshot, refusing it when any file's SHA-256 differs from the manifest, a listed
    /// file is missing, an unlisted data file is present, or an object lacks a required property.
    package static func load(from directory: URL) throws(SnapshotError) -> Snapshot {
        var snapshot = try opened(directory)
        for type in ObjectType.allCases {
            guard let entry = snapshot.manifest.files[type.fileName] else { continue }
            let part = try snapshot.collection(type, entry: entry)
            try snapshot.merge(part, as: type)
        }
        snapshot.shareReferencedIDs()
        return snapshot
    }

    /// ``load(from:)`` with the collection files read side by side (the users and the groups of a large tenant each
    /// take a second or more to check and parse). The result, and the error for a refused snapshot, are the same.
    package static func loadConcurrently(from directory: URL) async throws(SnapshotError) -> Snapshot {
        var snapshot = try opened(directory)
        let skeleton = snapshot
        let parts = await withTaskGroup(of: (ObjectType, Result<Snapshot, SnapshotError>).self) { group in
            // Largest first: the biggest file bounds the whole load.
            let listed = ObjectType.allCases.compactMap { type in skeleton.manifest.files[type.fileName].map { (type, $0) } }
            for (type, entry) in listed.sorted(by: { ($0.1.count ?? 0) > ($1.1.count ?? 0) }) {
                group.addTask { (type, await skeleton.collectionConcurrently(type, entry: entry)) }
            }
            var parts: [ObjectType: Result<Snapshot, SnapshotError>] = [:]
            for await (type, part) in group { parts[type] = part }
            return parts
        }
        // Typed throws are kept out of the async code above (a release build of Swift 6.0 crashed on them there).
        for type in ObjectType.allCases {
            switch parts[type] {
            case .success(let part)?: try snapshot.merge(part, as: type)
            case .failure(let error)?: throw error
            case nil: continue
            }
        }
        snapshot.shareReferencedIDs()
        return snapshot
    }

    /// Points every member, owner and manager reference at the referenced object's own id string: a 100,000-user
    /// tenant's groups hold about 400,000 references, each a heap copy of an id the snapshot already holds.
    private mutating func shareReferencedIDs() {
        let ids = typeByID
        let shared = { (id: String) -> String in ids.index(forKey: id).map { ids[$0].key } ?? id }
        for index in users.indices where users[index].manager != nil { users[index].shareReferencedIDs(shared) }
        for index in groups.indices { groups[index].shareReferencedIDs(shared) }
        for index in administrativeUnits.indices { administrativeUnits[index].shareReferencedIDs(shared) }
    }

    /// The manifest read and checked, and the auxiliary files verified: a snapshot with no objects yet.
    private static func opened(_ directory: URL) throws(SnapshotError) -> Snapshot {
        let manifestURL = directory.appendingPathComponent(manifestFileName)
        if let kind = InputFile.nonRegularKind(directory.path), kind != "a directory" {
            throw SnapshotError(
                file: directory.path, problem: "is \(kind), not a snapshot directory",
                hint: "a snapshot is a directory with manifest.json and Graph JSON files; check the --snapshot path")
        }
        let manifestData: Data
        do {
            manifestData = try InputFile.read(manifestURL.path, limit: manifestLimit)
        } catch {
            throw SnapshotError(
                file: manifestURL.path, problem: "cannot read the snapshot manifest: \(error.problem)",
                hint: "a snapshot is a directory with manifest.json and Graph JSON files; check the --snapshot path")
        }
        let manifest: SnapshotManifest
        do {
            // Strict first (duplicate names and invalid UTF-8 are refused), then typed.
            _ = try JSONCoding.decode(manifestData)
            manifest = try JSONCoding.decode(SnapshotManifest.self, from: manifestData)
        } catch {
            throw SnapshotError(file: manifestFileName, problem: "not a valid manifest (\(describe(error)))")
        }
        guard manifest.formatVersion == 1 else {
            throw SnapshotError(
                file: manifestFileName, field: "formatVersion", problem: "version \(manifest.formatVersion) is not supported",
                hint: "this lifeboat reads format 1; use a newer lifeboat")
        }
        var snapshot = Snapshot(directory: directory, manifest: manifest, manifestSHA256: sha256Hex(manifestData))
        snapshot.manifestData = manifestData

        let known = Set(ObjectType.allCases.map(\.fileName)).union(auxiliaryFileNames)
        for name in manifest.files.keys where !known.contains(name) {
            throw SnapshotError(
                file: name, problem: "listed in the manifest but not a snapshot collection",
                hint: "known files: \(known.sorted().joined(separator: ", "))")
        }
        let present = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in present where known.contains(name) && manifest.files[name] == nil {
            throw SnapshotError(
                file: name, problem: "present but not listed in the manifest",
                hint: "the snapshot was altered after capture; refusing to restore from it")
        }
        for name in auxiliaryFileNames.sorted() {
            guard let entry = manifest.files[name] else { continue }
            _ = try verifiedContents(of: name, in: directory, entry: entry)
        }

        return snapshot
    }

    /// Files a snapshot may hold besides its collections and manifest; listed (and hashed) in the
    /// manifest like the collections: `deltaLinks.json`, where a capture keeps its Graph delta links
    /// for the next `--incremental` capture, and `importLosses.json`, where `lifeboat snapshot import`
    /// lists what the source format lost.
    package static let auxiliaryFileNames: Set<String> = [deltaLinksFileName, importLossesFileName]

    /// The name of the file holding a capture's delta links.
    package static let deltaLinksFileName = "deltaLinks.json"

    /// The name of the file listing what an imported snapshot's source format lost.
    package static let importLossesFileName = "importLosses.json"

    /// A listed file's bytes, once its SHA-256 matches the manifest.
    static func verifiedContents(of name: String, in directory: URL, entry: SnapshotManifest.FileEntry) throws(SnapshotError) -> Data {
        let data: Data
        do {
            data = try InputFile.read(directory.appendingPathComponent(name).path, limit: fileLimit)
        } catch  where error.problem == "does not exist" {
            throw SnapshotError(
                file: name, problem: "listed in the manifest but missing",
                hint: "the snapshot is incomplete; restore the file from the backup's original media")
        } catch {
            throw SnapshotError(file: name, problem: "cannot be read: it \(error.problem)")
        }
        let actual = sha256Hex(data)
        guard actual == entry.sha256.lowercased() else {
            throw SnapshotError(
                file: name, problem: "SHA-256 \(actual) does not match the manifest's \(entry.sha256)",
                hint: "the file was changed or corrupted after capture; refusing a tampered snapshot")
        }
        return data
    }

    /// Splits a collection file: a JSON array, a Graph list response `{"value": [...]}`, or (for the organization) one object.
    static func parseCollection(_ data: Data, file: String) throws(SnapshotError) -> [JSONObject] {
        var objects: [JSONObject] = []
        try forEachElement(of: data, file: file) { properties, _, _ in objects.append(properties) }
        return objects
    }

    /// Calls `body` with every element of a collection file, its bytes' range and its index, as it is read.
    private static func forEachElement(
        of data: Data, file: String, _ body: (JSONObject, RawJSONObject, Int) throws(SnapshotError) -> Void
    ) throws(SnapshotError) {
        var reader = JSONCollectionReader(data)
        var index = 0
        while true {
            let element: (value: JSONValue, range: Range<Int>)?
            do {
                element = try reader.next()
            } catch .syntax(let error) {
                throw SnapshotError(
                    file: file, problem: "not valid JSON (\(error.description))",
                    hint: "the file may be truncated; use an intact copy of the snapshot")
            } catch {
                throw SnapshotError(file: file, problem: "expected a JSON array or a Graph list response {\"value\": [...]}")
            }
            guard let element else { return }
            guard let properties = element.value.objectValue else {
                throw SnapshotError(file: file, location: "value[\(index)]", problem: "not a JSON object")
            }
            try body(properties, RawJSONObject(buffer: reader.bytes, range: element.range), index)
            index += 1
        }
    }

    /// One collection file verified against the manifest and read into typed objects, in a snapshot that holds only
    /// them (``merge(_:as:)`` takes them into the whole).
    private func collection(_ type: ObjectType, entry: SnapshotManifest.FileEntry) throws(SnapshotError) -> Snapshot {
        let data = try Self.verifiedContents(of: type.fileName, in: directory, entry: entry)
        var part = Snapshot(directory: directory, manifest: manifest, manifestSHA256: manifestSHA256)
        switch type {
        case .organization: part.organization = try Self.typed(data, type, entry.count)
        case .domain: part.domains = try Self.typed(data, type, entry.count)
        case .user: part.users = try Self.typed(data, type, entry.count)
        case .group: part.groups = try Self.typed(data, type, entry.count)
        case .administrativeUnit: part.administrativeUnits = try Self.typed(data, type, entry.count)
        case .application: part.applications = try Self.typed(data, type, entry.count)
        case .servicePrincipal: part.servicePrincipals = try Self.typed(data, type, entry.count)
        case .appRoleAssignment: part.appRoleAssignments = try Self.typed(data, type, entry.count)
        case .oauth2PermissionGrant: part.oauth2PermissionGrants = try Self.typed(data, type, entry.count)
        case .roleDefinition: part.roleDefinitions = try Self.typed(data, type, entry.count)
        case .roleAssignment: part.roleAssignments = try Self.typed(data, type, entry.count)
        case .namedLocation: part.namedLocations = try Self.typed(data, type, entry.count)
        case .conditionalAccessPolicy: part.conditionalAccessPolicies = try Self.typed(data, type, entry.count)
        }
        return part
    }

    /// ``collection(_:entry:)`` with the users' and groups' elements parsed in parts side by side.
    private func collectionConcurrently(_ type: ObjectType, entry: SnapshotManifest.FileEntry) async -> Result<Snapshot, SnapshotError> {
        guard type == .user || type == .group else { return Self.result { () throws(SnapshotError) in try collection(type, entry: entry) } }
        let data: Data
        switch Self.result({ () throws(SnapshotError) in try Self.verifiedContents(of: type.fileName, in: directory, entry: entry) }) {
        case .success(let contents): data = contents
        case .failure(let error): return .failure(error)
        }
        var part = Snapshot(directory: directory, manifest: manifest, manifestSHA256: manifestSHA256)
        if type == .user {
            if let users: [User] = await Self.typedInParts(data, type, entry.count) {
                part.users = users
            } else {
                switch Self.result({ () throws(SnapshotError) -> [User] in try Self.typed(data, type, entry.count) }) {
                case .success(let users): part.users = users
                case .failure(let error): return .failure(error)
                }
            }
        } else {
            if let groups: [Group] = await Self.typedInParts(data, type, entry.count) {
                part.groups = groups
            } else {
                switch Self.result({ () throws(SnapshotError) -> [Group] in try Self.typed(data, type, entry.count) }) {
                case .success(let groups): part.groups = groups
                case .failure(let error): return .failure(error)
                }
            }
        }
        return .success(part)
    }

    private static func result<T>(_ body: () throws(SnapshotError) -> T) -> Result<T, SnapshotError> {
        do {
            return .success(try body())
        } catch {
            return .failure(error)
        }
    }

    /// How many elements a collection needs before its parts are parsed side by side.
    static let partedCollectionSize = 10_000

    /// ``typed(_:_:_:)`` with the file's elements found by a scan of its structure and parsed in one part per core.
    /// Nil at any problem (or for a small file): the caller reads the file with ``typed(_:_:_:)``, so a refusal reads
    /// exactly as it always has.
    private static func typedInParts<T: DirectoryObject>(_ data: Data, _ type: ObjectType, _ expected: Int?) async -> [T]? {
        let reader = JSONCollectionReader(data)
        let cores = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        guard cores > 1, let ranges = reader.elementRanges(), ranges.count >= partedCollectionSize, ranges.count == expected ?? ranges.count
        else { return nil }
        let buffer = reader.bytes
        let size = (ranges.count + cores - 1) / cores
        let parts = await withTaskGroup(of: (Int, [T]?).self) { group in
            for (part, start) in stride(from: 0, to: ranges.count, by: size).enumerated() {
                let slice = ranges[start..<min(start + size, ranges.count)]
                group.addTask {
                    var objects: [T] = []
                    objects.reserveCapacity(slice.count)
                    for range in slice {
                        let raw = RawJSONObject(buffer: buffer, range: range)
                        guard let properties = try? raw.parsed(), let object = try? T(properties: properties, raw: raw),
                            Self.idProblem(object, type) == nil
                        else { return (part, nil) }
                        objects.append(object)
                    }
                    return (part, objects)
                }
            }
            var parts: [Int: [T]?] = [:]
            for await (part, objects) in group { parts[part] = objects }
            return parts
        }
        var result: [T] = []
        result.reserveCapacity(ranges.count)
        for part in parts.keys.sorted() {
            guard let objects = parts[part] ?? nil else { return nil }
            result.append(contentsOf: objects)
        }
        return result
    }

    /// Takes one type's objects from a ``collection(_:entry:)`` part, refusing an id another object already has.
    private mutating func merge(_ part: Snapshot, as type: ObjectType) throws(SnapshotError) {
        let ids: [String]
        switch type {
        case .organization: organization = part.organization; ids = organization.map(\.id)
        case .domain: domains = part.domains; ids = domains.map(\.id)
        case .user: users = part.users; ids = users.map(\.id)
        case .group: groups = part.groups; ids = groups.map(\.id)
        case .administrativeUnit: administrativeUnits = part.administrativeUnits; ids = administrativeUnits.map(\.id)
        case .application: applications = part.applications; ids = applications.map(\.id)
        case .servicePrincipal: servicePrincipals = part.servicePrincipals; ids = servicePrincipals.map(\.id)
        case .appRoleAssignment: appRoleAssignments = part.appRoleAssignments; ids = appRoleAssignments.map(\.id)
        case .oauth2PermissionGrant: oauth2PermissionGrants = part.oauth2PermissionGrants; ids = oauth2PermissionGrants.map(\.id)
        case .roleDefinition: roleDefinitions = part.roleDefinitions; ids = roleDefinitions.map(\.id)
        case .roleAssignment: roleAssignments = part.roleAssignments; ids = roleAssignments.map(\.id)
        case .namedLocation: namedLocations = part.namedLocations; ids = namedLocations.map(\.id)
        case .conditionalAccessPolicy:
            conditionalAccessPolicies = part.conditionalAccessPolicies; ids = conditionalAccessPolicies.map(\.id)
        }
        typeByID.reserveCapacity(typeByID.count + ids.count)
        for (index, id) in ids.enumerated() {
            // Assignments and grants have ids of their own that never collide with directory objects.
            if let existing = typeByID[id], type != .organization {
                throw SnapshotError(
                    file: type.fileName, location: "value[\(index)]", field: "id",
                    problem: "\(id) is also the id of a \(existing.rawValue)",
                    hint: "every object id in a snapshot must be unique")
            }
            typeByID[id] = type
        }
    }

    private static func typed<T: DirectoryObject>(_ data: Data, _ type: ObjectType, _ expected: Int?) throws(SnapshotError) -> [T] {
        var result: [T] = []
        result.reserveCapacity(min(expected ?? 0, 1 << 24))
        try forEachElement(of: data, file: type.fileName) { properties, raw, index throws(SnapshotError) in
            let object: T
            do throws(PropertyProblem) {
                object = try T(properties: properties, raw: raw)
            } catch {
                let id = properties["id"]?.stringValue.map { " (id \($0))" } ?? ""
                throw SnapshotError(file: type.fileName, location: "value[\(index)]\(id)", field: error.field, problem: error.problem)
            }
            // Ids end up in URL paths: only the documented forms are accepted.
            if let problem = Self.idProblem(object, type) {
                let id = properties["id"]?.stringValue.map { " (id \(Self.printable($0)))" } ?? ""
                throw SnapshotError(
                    file: type.fileName, location: "value[\(index)]\(id)", field: problem.field, problem: problem.problem,
                    hint: "ids are GUIDs as Graph returns them (domains: their name); the file was altered or did not come from Graph")
            }
            result.append(object)
        }
        if let expected, expected != result.count {
            throw SnapshotError(file: type.fileName, problem: "holds \(result.count) objects but the manifest says \(expected)")
        }
        return result
    }

    /// Lower-case hex SHA-256 of some bytes.
    package static func sha256Hex(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    private static func describe(_ error: any Error) -> String {
        if let parse = error as? JSONParseError { return parse.description }
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = context.underlyingError.map { " \(String(describing: $0))" } ?? ""
            return context.debugDescription + underlying
        }
        if case DecodingError.keyNotFound(let key, _) = error { return "missing \"\(key.stringValue)\"" }
        if case DecodingError.typeMismatch(_, let context) = error {
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        }
        return String(describing: error)
    }
}

extension Snapshot {
    /// Writes a manifest for the collection and auxiliary files present in `directory` (used by capture and importers).
    package static func writeManifest(
        in directory: URL, sourceTenantId: String, sourceInitialDomain: String?, capturedAt: Date, toolVersion: String
    ) throws -> SnapshotManifest {
        var files: [String: SnapshotManifest.FileEntry] = [:]
        for type in ObjectType.allCases {
            let url = directory.appendingPathComponent(type.fileName)
            guard let data = try? Data(contentsOf: url) else { continue }
            let count = try parseCollection(data, file: type.fileName).count
            files[type.fileName] = .init(sha256: sha256Hex(data), count: count)
        }
        for name in auxiliaryFileNames {
            guard let data = try? Data(contentsOf: directory.appendingPathComponent(name)) else { continue }
            files[name] = .init(sha256: sha256Hex(data), count: nil)
        }
        let formatter = ISO8601DateFormatter()
        let manifest = SnapshotManifest(
            sourceTenantId: sourceTenantId, sourceInitialDomain: sourceInitialDomain,
            capturedAt: formatter.string(from: capturedAt), toolVersion: toolVersion, files: files)
        try JSONCoding.encodePretty(manifest).write(to: directory.appendingPathComponent(manifestFileName), options: .atomic)
        return manifest
    }
}

import Crypto
import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot

/// What a capture writes and from what.
package struct CaptureOptions: Sendable {
    /// The snapshot directory to create; it must not exist yet.
    package var output: URL
    /// The previous snapshot for an incremental capture, or `nil` for a full one.
    package var base: URL?
    /// Signs `manifest.json` (detached, `manifest.json.sig`) when set.
    package var signingKey: Curve25519.Signing.PrivateKey?
    /// Recorded in the manifest.
    package var toolVersion: String

    package init(output: URL, base: URL? = nil, signingKey: Curve25519.Signing.PrivateKey? = nil, toolVersion: String) {
        self.output = output
        self.base = base
        self.signingKey = signingKey
        self.toolVersion = toolVersion
    }
}

/// One line of progress: a collection was read.
package struct CaptureProgress: Sendable, CustomStringConvertible {
    package var type: ObjectType
    /// Objects the snapshot holds of this type.
    package var count: Int
    /// For users and groups in an incremental capture: objects Graph's delta reported changed and removed.
    package var changed: Int?
    package var removed: Int?
    /// Why a type was read in full when it could have been read incrementally (an expired delta link).
    package var note: String?

    package var description: String {
        var text = "\(type.plural): \(count)"
        if let changed, let removed { text += " (\(changed) changed, \(removed) removed since the base)" }
        if let note { text += " — \(note)" }
        return text
    }
}

/// What a capture produced.
package struct CaptureSummary: Sendable {
    package var directory: URL
    package var manifest: SnapshotManifest
    package var counts: [ObjectType: Int]
    package var incremental: Bool
    package var signed: Bool
}

/// A capture that did not produce a snapshot; nothing was left at the output path.
package struct CaptureError: Error, Sendable, CustomStringConvertible {
    package var problem: String
    package var hint: String?
    package init(_ problem: String, hint: String? = nil) {
        self.problem = problem
        self.hint = hint
    }
    package var description: String { problem + (hint.map { " — \($0)" } ?? "") }
}

/// Reads a tenant through Microsoft Graph into a snapshot directory that ``Snapshot/load(from:)`` reads:
/// one `{"value": [...]}` file per collection, relationships inline, `deltaLinks.json` and a manifest with
/// the SHA-256 and object count of every file.
///
/// - Collections are read with `$select` of ``CapturedProperties`` and `$top=999` (directory objects;
///   role management, Conditional Access, domains and the organization take no `$top`), following
///   `@odata.nextLink` to the end.
/// - Relationships are read per object through `$batch` (20 requests each, a few batches at a time):
///   group members and owners, administrative-unit members, application and service-principal owners,
///   application federated credentials, app role assignments (from each resource's `appRoleAssignedTo`),
///   and application certificates (`keyCredentials` carry their key only when one application is read).
///   Users' managers come with the user list (`$expand=manager($select=id)`).
/// - Atomic: everything is written to a hidden sibling directory (`.NAME.capture-…`), checked with
///   ``Snapshot/load(from:)``, signed if asked, and renamed to the output path only when complete. A
///   failed capture removes its directory; a killed one leaves a directory without a manifest, which
///   never loads as a snapshot.
/// - Incremental (``CaptureOptions/base``): users and groups follow the delta links the base stored in
///   `deltaLinks.json`; only the objects Graph reports changed are read again (with their relationships),
///   removed ones are dropped (and references to them), the rest is carried over from the base. Every other
///   collection is read in full. A delta link Graph no longer accepts falls back to a full read of that type.
package struct SnapshotCapture: Sendable {
    package let graph: GraphClient
    /// Called once per collection read.
    package var progress: @Sendable (CaptureProgress) -> Void
    /// How many `$batch` requests are in flight at once.
    package var concurrentBatches = 4

    package init(graph: GraphClient, progress: @escaping @Sendable (CaptureProgress) -> Void = { _ in }) {
        self.graph = graph
        self.progress = progress
    }

    /// Captures the tenant into `options.output`.
    package func capture(_ options: CaptureOptions) async throws -> CaptureSummary {
        let fileManager = FileManager.default
        let output = options.output.standardizedFileURL
        guard !fileManager.fileExists(atPath: output.path) else {
            throw CaptureError("\(output.path) already exists", hint: "a capture never overwrites a snapshot; choose a new --out directory")
        }
        let parent = output.deletingLastPathComponent()
        guard fileManager.fileExists(atPath: parent.path) else {
            throw CaptureError("the parent directory \(parent.path) does not exist", hint: "create it first")
        }
        var base: BaseSnapshot?
        if let baseURL = options.base {
            guard baseURL.standardizedFileURL != output else { throw CaptureError("--out must differ from --base") }
            base = try BaseSnapshot.load(baseURL)
        }

        let staging = parent.appendingPathComponent(".\(output.lastPathComponent).capture-\(UUID().uuidString.prefix(8).lowercased())")
        try fileManager.createDirectory(at: staging, withIntermediateDirectories: false)
        do {
            let summary = try await capture(into: staging, base: base, options: options)
            try fileManager.moveItem(at: staging, to: output)
            return CaptureSummary(
                directory: output, manifest: summary.manifest, counts: summary.counts, incremental: base != nil,
                signed: options.signingKey != nil)
        } catch {
            try? fileManager.removeItem(at: staging)
            throw error
        }
    }

    private func capture(into directory: URL, base: BaseSnapshot?, options: CaptureOptions) async throws
        -> (manifest: SnapshotManifest, counts: [ObjectType: Int])
    {
        let capturedAt = Date()
        var counts: [ObjectType: Int] = [:]
        func write(_ type: ObjectType, _ objects: [JSONObject], changed: Int? = nil, removed: Int? = nil, note: String? = nil) throws {
            let document: JSONValue = ["value": .array(objects.map(JSONValue.object))]
            try JSONCoding.encodePretty(document).write(to: directory.appendingPathComponent(type.fileName))
            counts[type] = objects.count
            progress(CaptureProgress(type: type, count: objects.count, changed: changed, removed: removed, note: note))
        }

        let organization = try await collection("/organization", type: .organization)
        guard let tenantID = organization.first?["id"]?.stringValue else {
            throw CaptureError("Graph returned no organization", hint: "the application needs Organization.Read.All or Directory.Read.All")
        }
        if let base, base.snapshot.manifest.sourceTenantId.lowercased() != tenantID.lowercased() {
            throw CaptureError(
                "the base snapshot is of tenant \(base.snapshot.manifest.sourceTenantId), but this tenant is \(tenantID)",
                hint: "give --base a snapshot of the same tenant, or take a full capture")
        }
        try write(.organization, organization)
        let domains = try await collection("/domains", type: .domain)
        try write(.domain, domains)

        // Users and groups: from the base through delta links, or in full (starting fresh delta links first,
        // so that changes made while the capture runs are picked up by the next incremental capture).
        var links: [String: String] = [:]
        var removedIDs: Set<String> = []
        var users: [JSONObject]
        var groups: [JSONObject]
        if let base, let link = base.deltaLinks["users"] {
            let delta = try await incremental(.user, link: link, base: base.snapshot.users.map(\.properties))
            users = delta.objects
            removedIDs.formUnion(delta.removed)
            if let link = delta.link { links["users"] = link } else { links["users"] = try await latestDeltaLink("/users/delta") }
            try write(.user, users, changed: delta.changedCount, removed: delta.removed.count, note: delta.note)
        } else {
            links["users"] = try await latestDeltaLink("/users/delta")
            users = try await readUsers()
            try write(.user, users, note: base == nil ? nil : "the base has no delta link for users; read in full")
        }
        if let base, let link = base.deltaLinks["groups"] {
            let delta = try await incremental(.group, link: link, base: base.snapshot.groups.map(\.properties))
            groups = delta.objects
            removedIDs.formUnion(delta.removed)
            if let link = delta.link { links["groups"] = link } else { links["groups"] = try await latestDeltaLink("/groups/delta") }
            groups = Self.dropReferences(to: removedIDs, in: groups, relationships: ["members", "owners"])
            try write(.group, groups, changed: delta.changedCount, removed: delta.removed.count, note: delta.note)
        } else {
            links["groups"] = try await latestDeltaLink("/groups/delta")
            groups = try await readGroups()
            try write(.group, groups, note: base == nil ? nil : "the base has no delta link for groups; read in full")
        }
        if !removedIDs.isEmpty {
            // A removed user or group is nobody's manager any more; rewrite users only if that changes them.
            let cleaned = Self.dropReferences(to: removedIDs, in: users, relationships: ["manager"])
            if cleaned != users {
                users = cleaned
                try JSONCoding.encodePretty(JSONValue.object(["value": .array(users.map(JSONValue.object))]))
                    .write(to: directory.appendingPathComponent(ObjectType.user.fileName))
            }
        }

        var units = try await collection(
            "/directory/administrativeUnits", type: .administrativeUnit,
            query: Self.select(CapturedProperties.administrativeUnit) + [Self.top])
        units = try await attach(["members"], to: units, collection: "/directory/administrativeUnits")
        try write(.administrativeUnit, units)

        var applications = try await collection(
            "/applications", type: .application, query: Self.select(CapturedProperties.application) + [Self.top])
        applications = try await attach(["owners"], to: applications, collection: "/applications")
        applications = try await attach(["federatedIdentityCredentials"], to: applications, collection: "/applications", references: false)
        applications = try await readCertificates(of: applications)
        try write(.application, applications)

        var principals = try await collection(
            "/servicePrincipals", type: .servicePrincipal,
            query: Self.select(CapturedProperties.servicePrincipal) + [Self.top])
        principals = try await attach(["owners"], to: principals, collection: "/servicePrincipals")
        try write(.servicePrincipal, principals)
        let assignments = try await relationship(
            principals.compactMap { $0["id"]?.stringValue }.map { "/servicePrincipals/\($0)/appRoleAssignedTo" },
            query: Self.select(CapturedProperties.appRoleAssignment) + [Self.top]
        ).flatMap { $0 }.map { Self.clean($0, as: .appRoleAssignment) }
        try write(.appRoleAssignment, assignments)

        try write(.oauth2PermissionGrant, try await collection("/oauth2PermissionGrants", type: .oauth2PermissionGrant, query: [Self.top]))
        try write(.roleDefinition, try await collection("/roleManagement/directory/roleDefinitions", type: .roleDefinition))
        try write(
            .roleAssignment,
            try await collection(
                "/roleManagement/directory/roleAssignments", type: .roleAssignment,
                query: Self.select(CapturedProperties.roleAssignment)))
        try write(.namedLocation, try await collection("/identity/conditionalAccess/namedLocations", type: .namedLocation))
        try write(.conditionalAccessPolicy, try await collection("/identity/conditionalAccess/policies", type: .conditionalAccessPolicy))

        try JSONCoding.encodePretty(JSONValue.object(links.mapValues(JSONValue.string)))
            .write(to: directory.appendingPathComponent(Snapshot.deltaLinksFileName))
        let initialDomain = domains.first { $0["isInitial"]?.boolValue == true }?["id"]?.stringValue
        let manifest = try Snapshot.writeManifest(
            in: directory, sourceTenantId: tenantID, sourceInitialDomain: initialDomain,
            capturedAt: capturedAt, toolVersion: options.toolVersion)
        if let key = options.signingKey {
            try SnapshotSignature.sign(directory: directory, privateKey: key)
        }
        // What was written must load (every required property present, every hash right) before it takes the output's name.
        do {
            _ = try Snapshot.load(from: directory)
        } catch {
            throw CaptureError(
                "the captured data does not form a loadable snapshot: \(error)",
                hint: "nothing was written to the output; report this with the message above")
        }
        return (manifest, counts)
    }

    // MARK: - Collections

    static let top = QueryItem("$top", "999")

    static func select(_ properties: [String]) -> [QueryItem] {
        [QueryItem("$select", properties.joined(separator: ","))]
    }

    /// Every object of a collection, cleaned of OData annotations.
    private func collection(_ path: String, type: ObjectType, query: [QueryItem] = []) async throws -> [JSONObject] {
        try await graph.list(path, query: query).map { Self.clean($0, as: type) }
    }

    private func readUsers() async throws -> [JSONObject] {
        let users = try await graph.list(
            "/users", query: Self.select(CapturedProperties.user) + [QueryItem("$expand", "manager($select=id)"), Self.top])
        return users.map(Self.cleanUser)
    }

    private func readGroups() async throws -> [JSONObject] {
        let groups = try await collection("/groups", type: .group, query: Self.select(CapturedProperties.group) + [Self.top])
        return try await attach(["members", "owners"], to: groups, collection: "/groups")
    }

    /// A delta link that starts now, without reading any object (`$deltatoken=latest`).
    private func latestDeltaLink(_ path: String) async throws -> String {
        var page = GraphClient.Page(
            try await graph.send(GraphRequest("GET", path, query: [QueryItem("$select", "id"), QueryItem("$deltatoken", "latest")])))
        while page.deltaLink == nil, let next = page.nextLink {
            page = GraphClient.Page(try await graph.follow(next))
        }
        guard let link = page.deltaLink else {
            throw CaptureError(
                "Graph answered \(path) without an @odata.deltaLink", hint: "incremental captures need delta queries on users and groups")
        }
        return link
    }

    /// Adds each relationship (`members`, `owners`, …) to every object, read through `$batch`.
    private func attach(_ names: [String], to objects: [JSONObject], collection: String, references: Bool = true) async throws
        -> [JSONObject]
    {
        var result = objects
        for name in names {
            let ids = objects.map { $0["id"]?.stringValue ?? "" }
            let query = references ? [QueryItem("$select", "id"), Self.top] : []
            let lists = try await relationship(ids.map { "\(collection)/\($0)/\(name)" }, query: query)
            for index in result.indices {
                let items = lists[index]
                result[index][name] = .array(items.map { references ? Self.reference($0) : .object(Self.clean($0, as: nil)) })
            }
        }
        return result
    }

    /// Applications with certificates, read one by one: only then does Graph return each certificate's `key`.
    private func readCertificates(of applications: [JSONObject]) async throws -> [JSONObject] {
        let withKeys = applications.indices.filter { applications[$0]["keyCredentials"]?.arrayValue?.isEmpty == false }
        guard !withKeys.isEmpty else { return applications }
        let requests = withKeys.map {
            GraphRequest(
                "GET", "/applications/\(applications[$0]["id"]?.stringValue ?? "")", query: [QueryItem("$select", "keyCredentials")])
        }
        var result = applications
        for (offset, answer) in try await batched(requests).enumerated() {
            switch answer {
            case .success(let response): result[withKeys[offset]]["keyCredentials"] = response.object["keyCredentials"] ?? []
            case .failure(let error): throw error
            }
        }
        return result
    }

    /// The complete collection at each path: first pages through `$batch`, later pages one by one.
    func relationship(_ paths: [String], query: [QueryItem]) async throws -> [[JSONObject]] {
        let answers = try await batched(paths.map { GraphRequest("GET", $0, query: query) })
        var lists: [[JSONObject]] = []
        lists.reserveCapacity(paths.count)
        for answer in answers {
            var page = GraphClient.Page(try answer.get())
            var items = page.items
            while let next = page.nextLink {
                page = GraphClient.Page(try await graph.follow(next))
                items += page.items
            }
            lists.append(items)
        }
        return lists
    }

    /// Requests sent as `$batch`es of 20, a few batches at a time; results in request order.
    func batched(_ requests: [GraphRequest]) async throws -> [Result<GraphResponse, GraphError>] {
        let size = GraphClient.batchLimit
        let chunks = stride(from: 0, to: requests.count, by: size).map { Array(requests[$0..<min($0 + size, requests.count)]) }
        var results = [[Result<GraphResponse, GraphError>]](repeating: [], count: chunks.count)
        let graph = self.graph
        var next = 0
        try await withThrowingTaskGroup(of: (Int, [Result<GraphResponse, GraphError>]).self) { group in
            func submit() {
                guard next < chunks.count else { return }
                let index = next, chunk = chunks[index]
                next += 1
                group.addTask { (index, await graph.batch(chunk)) }
            }
            for _ in 0..<max(1, concurrentBatches) { submit() }
            while let (index, answers) = try await group.next() {
                results[index] = answers
                try Task.checkCancellation()
                submit()
            }
        }
        return results.flatMap { $0 }
    }

    // MARK: - Incremental

    private struct DeltaOutcome {
        var objects: [JSONObject]
        var removed: Set<String>
        var changedCount: Int
        var link: String?
        var note: String?
    }

    /// Users or groups: the base's objects with Graph's reported changes applied.
    private func incremental(_ type: ObjectType, link: String, base: [JSONObject]) async throws -> DeltaOutcome {
        var changed: [String] = []
        var removed: Set<String> = []
        var newLink: String?
        do {
            var page = GraphClient.Page(try await graph.follow(link))
            while true {
                for item in page.items {
                    guard let id = item["id"]?.stringValue else { continue }
                    if item["@removed"] != nil { removed.insert(id) } else { changed.append(id) }
                }
                if let next = page.nextLink {
                    page = GraphClient.Page(try await graph.follow(next))
                } else {
                    newLink = page.deltaLink
                    break
                }
            }
        } catch let error as GraphError where Self.deltaExpired(error) {
            // The delta state is gone (Graph keeps it for a limited time): read this type in full.
            let link = try await latestDeltaLink(type == .user ? "/users/delta" : "/groups/delta")
            let objects = type == .user ? try await readUsers() : try await readGroups()
            let present = Set(objects.compactMap { $0["id"]?.stringValue })
            return DeltaOutcome(
                objects: objects, removed: Set(base.compactMap { $0["id"]?.stringValue }).subtracting(present),
                changedCount: objects.count, link: link, note: "the delta link expired (\(error.code)); read in full")
        }
        var seen: Set<String> = []
        let ids = changed.filter { !removed.contains($0) && seen.insert($0).inserted }
        let fresh = try await reread(type, ids: ids)
        removed.formUnion(ids.filter { fresh[$0] == nil })

        var objects: [JSONObject] = []
        var placed: Set<String> = []
        for object in base {
            guard let id = object["id"]?.stringValue, !removed.contains(id) else { continue }
            objects.append(fresh[id] ?? object)
            placed.insert(id)
        }
        for id in ids where !placed.contains(id) {
            if let object = fresh[id] { objects.append(object) }
        }
        // Only ids that were in the base count as removed for the report.
        let baseIDs = Set(base.compactMap { $0["id"]?.stringValue })
        return DeltaOutcome(objects: objects, removed: removed.intersection(baseIDs), changedCount: fresh.count, link: newLink, note: nil)
    }

    /// The current state of some users or groups (with their relationships); absent ones are missing from the result.
    private func reread(_ type: ObjectType, ids: [String]) async throws -> [String: JSONObject] {
        guard !ids.isEmpty else { return [:] }
        let collection = type == .user ? "/users" : "/groups"
        let query =
            type == .user
            ? Self.select(CapturedProperties.user) + [QueryItem("$expand", "manager($select=id)")]
            : Self.select(CapturedProperties.group)
        var found: [String: JSONObject] = [:]
        var order: [String] = []
        for (id, answer) in zip(ids, try await batched(ids.map { GraphRequest("GET", "\(collection)/\($0)", query: query) })) {
            switch answer {
            case .success(let response):
                found[id] = type == .user ? Self.cleanUser(response.object) : Self.clean(response.object, as: type)
                order.append(id)
            case .failure(let error) where error.isNotFound:
                continue
            case .failure(let error):
                throw error
            }
        }
        if type == .group {
            let groups = try await attach(["members", "owners"], to: order.compactMap { found[$0] }, collection: "/groups")
            for group in groups { if let id = group["id"]?.stringValue { found[id] = group } }
        }
        return found
    }

    static func deltaExpired(_ error: GraphError) -> Bool {
        let code = error.code.lowercased()
        return error.status == 410 || code.contains("resync") || code.contains("syncstatenotfound") || code.contains("expired")
    }

    // MARK: - Shapes

    /// Drops OData annotations; keeps `@odata.type` only where it says more than the collection does
    /// (named locations are IP or country locations).
    static func clean(_ object: JSONObject, as type: ObjectType?) -> JSONObject {
        object.filter { key, value in
            guard key.contains("@") else { return true }
            guard key == "@odata.type", let type else { return false }
            return value.stringValue?.caseInsensitiveCompare(CapturedProperties.odataType(of: type)) != .orderedSame
        }
    }

    /// A user with its manager as a reference (none: no `manager` key, as in a list without one).
    static func cleanUser(_ object: JSONObject) -> JSONObject {
        var user = clean(object, as: .user)
        if let manager = user["manager"], manager.objectValue != nil {
            user["manager"] = reference(manager.objectValue!)
        } else {
            user["manager"] = nil
        }
        return user
    }

    /// `{"@odata.type": "#microsoft.graph.user", "id": "…"}`.
    static func reference(_ object: JSONObject) -> JSONValue {
        var reference: JSONObject = ["id": object["id"] ?? .null]
        if let type = object["@odata.type"] { reference["@odata.type"] = type }
        return .object(reference)
    }

    /// Removes references to `ids` from the named relationships.
    static func dropReferences(to ids: Set<String>, in objects: [JSONObject], relationships: [String]) -> [JSONObject] {
        guard !ids.isEmpty else { return objects }
        return objects.map { object in
            var object = object
            for name in relationships {
                if let list = object[name]?.arrayValue {
                    object[name] = .array(list.filter { !ids.contains($0["id"]?.stringValue ?? "") })
                } else if let id = object[name]?["id"]?.stringValue, ids.contains(id) {
                    object[name] = nil
                }
            }
            return object
        }
    }
}

/// The previous snapshot of an incremental capture, verified, with its delta links.
struct BaseSnapshot {
    var snapshot: Snapshot
    var deltaLinks: [String: String]

    static func load(_ url: URL) throws -> BaseSnapshot {
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot.load(from: url)
        } catch {
            throw CaptureError("the base snapshot does not verify: \(error)", hint: "take a full capture instead")
        }
        var links: [String: String] = [:]
        if snapshot.manifest.files[Snapshot.deltaLinksFileName] != nil,
            let data = try? Data(contentsOf: url.appendingPathComponent(Snapshot.deltaLinksFileName)),
            let object = (try? JSONCoding.decode(data))?.objectValue
        {
            links = object.compactMapValues(\.stringValue)
        }
        return BaseSnapshot(snapshot: snapshot, deltaLinks: links)
    }
}

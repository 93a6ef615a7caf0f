import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatSQLite

/// A fake Entra tenant that answers Microsoft Graph v1.0 requests the way Graph does where it
/// matters for a rebuild: new ids, uniqueness, verified UPN domains, `@odata.bind` limits and
/// atomicity, upsert by `uniqueName`, paging, and Graph's error bodies.
///
/// Its state lives in SQLite (when given a file), so a killed tabletop resumes against the same tenant.
public actor FakeTenant {
    private let directory: FakeDirectory
    private let executor: DispatchQueueExecutor
    private let timestamp = ISO8601DateFormatter()
    private var ids: IdentifierSource

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The tenant's id.
    public nonisolated let tenantID: String
    /// The tenant's initial `*.onmicrosoft.com` domain.
    public nonisolated let initialDomain: String

    /// Opens the fake tenant stored at `stateFile` (in memory when `nil`), creating it with
    /// `tenantID` and `initialDomain` when the file is new.
    ///
    /// With a `seed`, the ids the tenant assigns are deterministic (for golden tests and reproducible drills).
    public init(stateFile: String?, tenantID: String? = nil, initialDomain: String = "lifeboat-drill.onmicrosoft.com", seed: UInt64? = nil) throws {
        executor = DispatchQueueExecutor(label: "lifeboat.fake-tenant")
        let directory = try FakeDirectory(path: stateFile)
        self.directory = directory
        // A reopened seeded tenant continues with a different sequence, so it never reissues an id.
        var ids = IdentifierSource(seed: seed.map { $0 &+ UInt64(directory.objects.count) &* 0x2545_F491_4F6C_DD1D })
        if let existing = directory.setting("tenantId"), let domain = directory.setting("initialDomain") {
            self.tenantID = existing
            self.initialDomain = domain
            self.ids = ids
            return
        }
        let id = tenantID ?? ids.next()
        self.ids = ids
        let domain = initialDomain.lowercased()
        self.tenantID = id
        self.initialDomain = domain
        try directory.transaction {
            try directory.setSetting("tenantId", id)
            try directory.setSetting("initialDomain", domain)
            try directory.setSetting("writes", "0")
            try directory.put(id, type: "organization", properties: [
                "id": .string(id), "displayName": "Lifeboat fake tenant", "tenantType": "AAD",
                "verifiedDomains": [["name": .string(domain), "isInitial": true, "isDefault": true, "type": "Managed"]],
            ])
            try directory.put(domain, type: "domain", properties: [
                "id": .string(domain), "isInitial": true, "isDefault": true, "isVerified": true, "isRoot": true,
                "authenticationType": "Managed", "supportedServices": ["Email", "OfficeCommunicationsOnline"],
            ])
        }
    }

    // MARK: - Operator and test access

    /// Successful writes this tenant has accepted since it was created.
    public var writeCount: Int { Int(directory.setting("writes") ?? "0") ?? 0 }

    /// Every object of a Graph type (`user`, `group`, …) in creation order.
    public func objects(ofType type: String) -> [JSONObject] {
        directory.ids(ofType: type).compactMap { directory.object($0)?.properties }
    }

    /// The target ids of a relationship (`members`, `owners`).
    public func relationship(_ name: String, of id: String) -> [String] { directory.targets(of: id, name) }

    /// Adds a verified (or unverified) custom domain, as an operator would after publishing DNS records.
    public func addDomain(_ name: String, verified: Bool) throws {
        try directory.transaction {
            try directory.put(name.lowercased(), type: "domain", properties: [
                "id": .string(name.lowercased()), "isInitial": false, "isDefault": false, "isVerified": .bool(verified), "isRoot": true,
                "authenticationType": "Managed", "supportedServices": [],
            ])
        }
    }

    // MARK: - Graph

    /// Answers one Graph request.
    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let requestID = ids.next()
        let date = timestamp.string(from: Date())
        do {
            let fake = try FakeRequest(request)
            var response = try route(fake)
            response.headers["request-id"] = requestID
            response.headers["client-request-id"] = requestID
            if fake.method != "GET", (200..<300).contains(response.status) {
                try directory.setSetting("writes", String(writeCount + 1))
            }
            return response
        } catch let failure as GraphFailure {
            return failure.response(requestID: requestID, date: date)
        } catch {
            return GraphFailure(status: 500, code: "InternalServerError", message: "\(error)").response(requestID: requestID, date: date)
        }
    }

    private func route(_ request: FakeRequest) throws -> HTTPResponse {
        let segments = request.segments
        guard let first = segments.first else { throw GraphFailure(status: 404, code: "BadRequest", message: "Resource not found for the segment ''.") }
        let collection = try CollectionSegment(first)
        switch (collection.name, request.method, segments.count) {
        case ("organization", "GET", 1):
            return try list(request, type: "organization")
        case ("domains", "GET", 1):
            return try list(request, type: "domain")
        case ("domains", "GET", 2):
            return try ok(get(segments[1], type: "domain"), request)
        case ("invitations", "POST", 1):
            return try invite(request)
        case ("directoryObjects", "GET", 2):
            guard let entry = directory.object(segments[1]) else { throw GraphFailure.notFound(segments[1]) }
            return try ok(withType(entry.properties, entry.type), request)
        case ("users", _, _), ("groups", _, _):
            return try routeDirectoryCollection(request, collection: collection, segments: segments)
        default:
            throw GraphFailure(status: 400, code: "BadRequest",
                               message: "Resource not found for the segment '\(first)'. The fake tenant serves organization, domains, users, groups, invitations and directoryObjects.")
        }
    }

    private func routeDirectoryCollection(_ request: FakeRequest, collection: CollectionSegment, segments: [String]) throws -> HTTPResponse {
        let type = collection.name == "users" ? "user" : "group"
        // Alternate key: /groups(uniqueName='x').
        if let property = collection.keyProperty, let value = collection.keyValue {
            guard segments.count == 1 else { throw GraphFailure.badRequest("Navigation through an alternate key is not supported.") }
            guard type == "group", property == "uniqueName" else { throw GraphFailure.badRequest("Unsupported alternate key \(property).") }
            let existing = directory.lookup(type, property, value)
            switch request.method {
            case "GET":
                guard let existing else { throw GraphFailure.notFound(value) }
                return try ok(get(existing, type: type), request)
            case "PATCH":
                if let existing {
                    try updateGroup(existing, request.body ?? [:])
                    return HTTPResponse(status: 204)
                }
                guard request.headers["prefer"]?.lowercased().contains("create-if-missing") == true else { throw GraphFailure.notFound(value) }
                var body = request.body ?? [:]
                body["uniqueName"] = .string(value)
                return try created(createGroup(body), request)
            default:
                throw GraphFailure(status: 405, code: "Request_BadRequest", message: "Method \(request.method) is not allowed on an alternate key.")
            }
        }
        switch (request.method, segments.count) {
        case ("GET", 1):
            return try list(request, type: type)
        case ("POST", 1):
            let body = request.body ?? [:]
            return try created(type == "user" ? createUser(body) : createGroup(body), request)
        case ("GET", 2):
            return try ok(get(segments[1], type: type), request)
        case ("PATCH", 2):
            _ = try get(segments[1], type: type)
            if type == "group" { try updateGroup(segments[1], request.body ?? [:]) } else { try updateUser(segments[1], request.body ?? [:]) }
            return HTTPResponse(status: 204)
        case ("DELETE", 2):
            _ = try get(segments[1], type: type)
            try directory.transaction { try directory.remove(segments[1]) }
            return HTTPResponse(status: 204)
        case ("GET", 3) where type == "group" && ["members", "owners"].contains(segments[2]):
            _ = try get(segments[1], type: type)
            let items = directory.targets(of: segments[1], segments[2]).compactMap { id in
                directory.object(id).map { withType($0.properties, $0.type) }
            }
            return try page(items, request)
        case ("POST", 4) where type == "group" && ["members", "owners"].contains(segments[2]) && segments[3] == "$ref":
            _ = try get(segments[1], type: type)
            guard let reference = request.body?["@odata.id"]?.stringValue else {
                throw GraphFailure.badRequest("The request body must contain @odata.id.")
            }
            try bind(group: segments[1], relation: segments[2], references: [.string(reference)])
            return HTTPResponse(status: 204)
        case ("DELETE", 5) where type == "group" && ["members", "owners"].contains(segments[2]) && segments[4] == "$ref":
            guard directory.hasLink(segments[1], segments[2], segments[3]) else { throw GraphFailure.notFound(segments[3]) }
            try directory.transaction { try directory.removeLink(segments[1], segments[2], segments[3]) }
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 400, code: "BadRequest", message: "Unsupported request \(request.method) \(request.path).")
        }
    }

    // MARK: - Reads

    private func get(_ id: String, type: String) throws -> JSONObject {
        guard let entry = directory.object(id), entry.type == type else { throw GraphFailure.notFound(id) }
        return entry.properties
    }

    private func withType(_ properties: JSONObject, _ type: String) -> JSONObject {
        var object = properties
        object["@odata.type"] = .string("#microsoft.graph.\(type)")
        return object
    }

    private func list(_ request: FakeRequest, type: String) throws -> HTTPResponse {
        guard let filter = request.query["$filter"] else {
            return try page(directory.ids(ofType: type).compactMap { directory.object($0)?.properties }, request)
        }
        let parsed = try ODataFilter(filter)
        // An equality on a unique property is an index look-up, as in Graph.
        if parsed.clauses.count == 1, let clause = parsed.clauses.first,
           FakeDirectory.uniqueProperties[type]?.contains(clause.property) == true {
            let found = directory.lookup(type, clause.property, clause.value).flatMap { directory.object($0)?.properties }
            return try page(found.map { [$0] } ?? [], request)
        }
        return try page(directory.ids(ofType: type).compactMap { directory.object($0)?.properties }.filter(parsed.matches), request)
    }

    /// One page of a collection with `$top`, `$select` and an opaque `$skiptoken` in `@odata.nextLink`.
    private func page(_ items: [JSONObject], _ request: FakeRequest) throws -> HTTPResponse {
        let top = try request.query["$top"].map { text throws(GraphFailure) -> Int in
            guard let value = Int(text), value > 0, value <= 999 else {
                throw GraphFailure.badRequest("Invalid page size specified: '\(text)'. Must be between 1 and 999 inclusive.", code: "Request_UnsupportedQuery")
            }
            return value
        } ?? 100
        var offset = 0
        if let token = request.query["$skiptoken"] {
            guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("offset:"), let value = Int(text.dropFirst(7)), value >= 0 else {
                throw GraphFailure.badRequest("Invalid skip token.", code: "Request_BadRequest")
            }
            offset = value
        }
        let select = request.query["$select"].map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        let slice = items.dropFirst(offset).prefix(top).map { item -> JSONValue in
            guard let select else { return .object(item) }
            return .object(item.filter { select.contains($0.key) || $0.key == "id" || $0.key == "@odata.type" })
        }
        var body: JSONObject = ["value": .array(Array(slice))]
        if request.headers["consistencylevel"]?.lowercased() == "eventual", request.query["$count"] == "true" {
            body["@odata.count"] = .number(Double(items.count))
        }
        if offset + top < items.count {
            var query = request.query
            query["$skiptoken"] = Data("offset:\(offset + top)".utf8).base64EncodedString()
            body["@odata.nextLink"] = .string(request.base + GraphClient.encode(
                path: request.path, query: query.sorted { $0.key < $1.key }.map { QueryItem($0.key, $0.value) }))
        }
        return try ok(body, request)
    }

    private func ok(_ object: JSONObject, _ request: FakeRequest) throws -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: try JSONCoding.encode(JSONValue.object(object)))
    }

    private func created(_ object: JSONObject, _ request: FakeRequest) throws -> HTTPResponse {
        HTTPResponse(status: 201, headers: ["Content-Type": "application/json"], body: try JSONCoding.encode(JSONValue.object(object)))
    }

    // MARK: - Writes

    private func newID() -> String { ids.next() }

    private func now() -> String { timestamp.string(from: Date()) }

    private func require(_ body: JSONObject, _ names: [String], type: String) throws {
        for name in names where body[name] == nil || body[name]!.isNull {
            throw GraphFailure.badRequest("Property '\(name)' is required when creating the object of type '\(type)'.")
        }
    }

    private func createUser(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["accountEnabled", "displayName", "mailNickname", "userPrincipalName", "passwordProfile"], type: "user")
        guard let upn = body["userPrincipalName"]?.stringValue, let at = upn.lastIndex(of: "@"), upn.first != "@" else {
            throw GraphFailure.badRequest("Invalid value specified for property 'userPrincipalName' of resource 'User'.")
        }
        let domain = upn[upn.index(after: at)...].lowercased()
        guard directory.object(domain)?.properties["isVerified"]?.boolValue == true else {
            throw GraphFailure.badRequest(
                "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.")
        }
        guard directory.lookup("user", "userPrincipalName", upn) == nil else { throw GraphFailure.alreadyExists("userPrincipalName") }
        guard body["passwordProfile"]?["password"]?.stringValue?.isEmpty == false else {
            throw GraphFailure.badRequest("Property 'passwordProfile.password' is required when creating a user.")
        }
        var user = body
        user["passwordProfile"] = nil  // Graph never returns the password.
        user["id"] = .string(newID())
        user["createdDateTime"] = .string(now())
        user["userType"] = body["userType"] ?? "Member"
        user["mail"] = body["mail"] ?? .null
        try directory.transaction { try directory.put(user["id"]!.stringValue!, type: "user", properties: user) }
        return user
    }

    private func updateUser(_ id: String, _ body: JSONObject) throws {
        var user = try get(id, type: "user")
        if let upn = body["userPrincipalName"]?.stringValue, let other = directory.lookup("user", "userPrincipalName", upn), other != id {
            throw GraphFailure.alreadyExists("userPrincipalName")
        }
        for (key, value) in body where key != "id" && key != "passwordProfile" { user[key] = value }
        try directory.transaction { try directory.put(id, type: "user", properties: user) }
    }

    private func invite(_ request: FakeRequest) throws -> HTTPResponse {
        let body = request.body ?? [:]
        try require(body, ["invitedUserEmailAddress", "inviteRedirectUrl"], type: "invitation")
        guard let email = body["invitedUserEmailAddress"]?.stringValue, email.contains("@") else {
            throw GraphFailure.badRequest("Invalid invitedUserEmailAddress.")
        }
        let upn = email.replacingOccurrences(of: "@", with: "_") + "#EXT#@" + initialDomain
        if let existing = directory.lookup("user", "userPrincipalName", upn) {
            // Graph re-sends an invitation to an existing guest instead of creating a second one.
            return try created(["id": .string(newID()), "invitedUser": ["id": .string(existing)], "status": "PendingAcceptance",
                                "invitedUserEmailAddress": .string(email)], request)
        }
        let id = newID()
        let user: JSONObject = [
            "id": .string(id), "userPrincipalName": .string(upn), "mail": .string(email), "otherMails": [.string(email)],
            "displayName": body["invitedUserDisplayName"] ?? .string(email), "userType": body["invitedUserType"] ?? "Guest",
            "accountEnabled": true, "creationType": "Invitation", "externalUserState": "PendingAcceptance",
            "mailNickname": .string(email.replacingOccurrences(of: "@", with: "_")), "createdDateTime": .string(now()),
        ]
        try directory.transaction { try directory.put(id, type: "user", properties: user) }
        return try created([
            "id": .string(newID()), "invitedUserEmailAddress": .string(email), "invitedUserDisplayName": user["displayName"]!,
            "inviteRedirectUrl": body["inviteRedirectUrl"]!, "sendInvitationMessage": body["sendInvitationMessage"] ?? false,
            "inviteRedeemUrl": .string("https://login.microsoftonline.com/redeem?tenant=\(tenantID)"), "status": "PendingAcceptance",
            "invitedUser": ["id": .string(id)],
        ], request)
    }

    private func createGroup(_ body: JSONObject) throws -> JSONObject {
        try require(body, ["displayName", "mailEnabled", "mailNickname", "securityEnabled"], type: "group")
        let types = body["groupTypes"]?.stringArray ?? []
        let unified = types.contains("Unified"), dynamic = types.contains("DynamicMembership")
        if dynamic, body["membershipRule"]?.stringValue == nil {
            throw GraphFailure.badRequest("A dynamic group requires membershipRule.")
        }
        if body["isAssignableToRole"]?.boolValue == true, body["securityEnabled"]?.boolValue != true || dynamic {
            throw GraphFailure.badRequest("A role-assignable group must be a security-enabled group with assigned membership.")
        }
        if body["mailEnabled"]?.boolValue == true, !unified {
            throw GraphFailure.badRequest("Creating mail-enabled security groups or distribution groups is not supported through Graph.")
        }
        if let name = body["uniqueName"]?.stringValue, directory.lookup("group", "uniqueName", name) != nil {
            throw GraphFailure.alreadyExists("uniqueName")
        }
        if unified, let nickname = body["mailNickname"]?.stringValue,
           directory.ids(ofType: "group").contains(where: {
               directory.object($0)?.properties["mailNickname"]?.stringValue?.caseInsensitiveCompare(nickname) == .orderedSame
           }) {
            throw GraphFailure.alreadyExists("mailNickname")
        }
        let members = body["members@odata.bind"]?.arrayValue ?? []
        let owners = body["owners@odata.bind"]?.arrayValue ?? []
        guard members.count + owners.count <= 20 else {
            throw GraphFailure.badRequest("A maximum of 20 members and owners can be added when creating a group.")
        }
        let memberIDs = try resolve(members), ownerIDs = try resolve(owners)
        var group = body.filter { !$0.key.hasSuffix("@odata.bind") }
        let id = newID()
        group["id"] = .string(id)
        group["createdDateTime"] = .string(now())
        group["groupTypes"] = .array(types.map(JSONValue.string))
        if unified { group["mail"] = .string("\(body["mailNickname"]!.stringValue!)@\(initialDomain)") }
        try directory.transaction {
            try directory.put(id, type: "group", properties: group)
            for member in memberIDs { try directory.addLink(id, "members", member) }
            for owner in ownerIDs { try directory.addLink(id, "owners", owner) }
        }
        return group
    }

    private func updateGroup(_ id: String, _ body: JSONObject) throws {
        var group = try get(id, type: "group")
        let members = body["members@odata.bind"]?.arrayValue
        let owners = body["owners@odata.bind"]?.arrayValue
        for (key, value) in body where !key.hasSuffix("@odata.bind") && key != "id" { group[key] = value }
        if let members { try validateBind(group: id, relation: "members", references: members) }
        if let owners { try validateBind(group: id, relation: "owners", references: owners) }
        let memberIDs = try resolve(members ?? []), ownerIDs = try resolve(owners ?? [])
        try directory.transaction {
            try directory.put(id, type: "group", properties: group)
            for member in memberIDs { try directory.addLink(id, "members", member) }
            for owner in ownerIDs { try directory.addLink(id, "owners", owner) }
        }
    }

    /// Adds references to a group relationship, all or nothing.
    private func bind(group: String, relation: String, references: [JSONValue]) throws {
        try validateBind(group: group, relation: relation, references: references)
        let ids = try resolve(references)
        try directory.transaction { for id in ids { try directory.addLink(group, relation, id) } }
    }

    private func validateBind(group: String, relation: String, references: [JSONValue]) throws {
        guard references.count <= 20 else {
            throw GraphFailure.badRequest("The request exceeds the limit of 20 \(relation) that can be added in one request.")
        }
        if relation == "members", directory.object(group)?.properties["groupTypes"]?.stringArray?.contains("DynamicMembership") == true {
            throw GraphFailure.badRequest("Insufficient privileges to complete the operation: members of a dynamic group cannot be changed.",
                                          code: "Authorization_RequestDenied")
        }
        for id in try resolve(references) where directory.hasLink(group, relation, id) {
            throw GraphFailure.badRequest("One or more added object references already exist for the following modified properties: '\(relation)'.")
        }
    }

    /// Resolves `https://graph.microsoft.com/v1.0/directoryObjects/{id}` references; any missing one fails them all.
    private func resolve(_ references: [JSONValue]) throws -> [String] {
        var ids: [String] = []
        for reference in references {
            guard let url = reference.stringValue, let id = url.split(separator: "/").last.map(String.init) else {
                throw GraphFailure.badRequest("Invalid object reference \(JSONCoding.string(reference)).")
            }
            guard let entry = directory.object(id), ["user", "group", "servicePrincipal", "device", "orgContact"].contains(entry.type) else {
                throw GraphFailure.badRequest("Invalid object identifier '\(id)': one or more of the objects being referenced do not exist.",
                                              code: "Request_BadRequest")
            }
            ids.append(id)
        }
        return ids
    }
}

/// The in-process face of the fake tenant: an ``HTTPTransport`` that never leaves the process.
public struct FakeTenantTransport: HTTPTransport {
    public let tenant: FakeTenant
    /// Writes whose response is dropped after the fake applied them (1-based count of writes), to rehearse the ambiguous case.
    public let dropResponses: DroppedResponses?

    public init(tenant: FakeTenant, dropResponses: DroppedResponses? = nil) {
        self.tenant = tenant
        self.dropResponses = dropResponses
    }

    /// The version root clients should use with this transport.
    public static let baseURL = "https://graph.fake-tenant.invalid/v1.0"

    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let response = await tenant.handle(request)
        if request.isWrite, let dropResponses, dropResponses.shouldDrop() {
            throw TransportFailure.noResponse("connection reset after the request was sent (injected fault)")
        }
        return response
    }
}

/// Drops the response of every `every`-th write, after it was applied.
public final class DroppedResponses: Sendable {
    private let every: Int
    private let counter = AtomicCounter()

    public init(every: Int) {
        self.every = max(1, every)
    }

    func shouldDrop() -> Bool { counter.increment() % every == 0 }
}

import Synchronization

final class AtomicCounter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int {
        value.withLock { value in
            value += 1
            return value
        }
    }
}

/// Object ids: random, or a deterministic sequence from a seed (SplitMix64).
struct IdentifierSource {
    private var state: UInt64?

    init(seed: UInt64?) {
        state = seed
    }

    mutating func next() -> String {
        guard var value = state else { return UUID().uuidString.lowercased() }
        var bytes: [UInt8] = []
        for _ in 0..<2 {
            value &+= 0x9E37_79B9_7F4A_7C15
            var z = value
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            bytes += withUnsafeBytes(of: z.bigEndian, Array.init)
        }
        state = value
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        return uuid.uuidString.lowercased()
    }
}

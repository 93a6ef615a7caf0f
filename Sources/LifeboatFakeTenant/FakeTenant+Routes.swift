import Foundation
import LifeboatGraph
import LifeboatJSON

/// The collections the fake tenant serves, with the Graph type of their objects.
enum FakeCollections {
    static let all: [(path: [String], type: String)] = [
        (["roleManagement", "directory", "roleDefinitions"], "unifiedRoleDefinition"),
        (["roleManagement", "directory", "roleAssignments"], "unifiedRoleAssignment"),
        (["identity", "conditionalAccess", "namedLocations"], "namedLocation"),
        (["identity", "conditionalAccess", "policies"], "conditionalAccessPolicy"),
        (["policies", "authenticationStrengthPolicies"], "authenticationStrengthPolicy"),
        (["directory", "administrativeUnits"], "administrativeUnit"),
        (["users"], "user"), (["groups"], "group"), (["applications"], "application"), (["servicePrincipals"], "servicePrincipal"),
        (["oauth2PermissionGrants"], "oauth2PermissionGrant"), (["domains"], "domain"), (["organization"], "organization"),
    ]

    /// ``all`` split for the router, once: the segments before the collection's own, its name and its type.
    static let routes: [(parents: [String], name: String, type: String)] = all.map { (Array($0.path.dropLast()), $0.path.last!, $0.type) }

    /// Alternate keys Graph supports per type.
    static let alternateKeys: [String: Set<String>] = [
        "group": ["uniqueName"], "application": ["uniqueName", "appId"], "servicePrincipal": ["appId"],
    ]

    /// Types whose alternate-key PATCH with `Prefer: create-if-missing` is an upsert.
    static let upsertable: Set<String> = ["group", "application", "servicePrincipal"]
}

extension FakeTenant {
    func route(_ request: FakeRequest, app: String, roles: Set<String>) throws -> HTTPResponse {
        let segments = request.segments
        guard let first = segments.first else {
            throw GraphFailure(status: 400, code: "BadRequest", message: "Resource not found for the segment ''.")
        }
        if segments == ["$batch"], request.method == "POST" { return try batch(request, app: app, roles: roles) }
        if first == "invitations", segments.count == 1, request.method == "POST" { return try invite(request) }
        if first == "subscribedSkus", segments.count == 1, request.method == "GET" {
            return try list(request, items: { subscribedSkus() }, type: nil)
        }
        if first == "subscribedSkus", segments.count == 2, request.method == "GET" {
            // api-reference/v1.0/api/subscribedsku-get.md
            guard let sku = subscribedSkus().first(where: { $0["id"]?.stringValue?.lowercased() == segments[1].lowercased() }) else {
                throw GraphFailure.notFound(segments[1])
            }
            return try json(200, select(sku, request))
        }
        if segments == ["identityGovernance", "termsOfUse", "agreements"], request.method == "GET" {
            // api-reference/v1.0/api/termsofusecontainer-list-agreements.md: the fake tenant has no terms-of-use agreements (Lifeboat only reads them).
            return try list(request, items: { [] }, type: nil)
        }
        if first == "directoryObjects", segments.count == 2, request.method == "GET" {
            guard let entry = visible(segments[1]) else { throw GraphFailure.notFound(segments[1]) }
            return try json(200, withType(entry.properties, entry.type))
        }
        if first == "policies", segments.count < 2 || segments[1] != "authenticationStrengthPolicies" {
            return try policies(request, rest: Array(segments.dropFirst()))
        }
        if segments.count >= 2, first == "directory", segments[1] == "deletedItems" {
            return try recycleBin(request, rest: Array(segments.dropFirst(2)))
        }
        for collection in FakeCollections.routes where segments.count > collection.parents.count {
            guard segments.starts(with: collection.parents) else { continue }
            let key = try CollectionSegment(segments[collection.parents.count])
            guard key.name == collection.name else { continue }
            return try resource(request, type: collection.type, key: key, rest: Array(segments.dropFirst(collection.parents.count + 1)))
        }
        throw GraphFailure(status: 400, code: "BadRequest", message: "Resource not found for the segment '\(first)'.")
    }

    /// `/policies/…`: security defaults and the authentication-methods policy's Temporary Access Pass configuration.
    private func policies(_ request: FakeRequest, rest: [String]) throws -> HTTPResponse {
        switch rest.map({ $0.lowercased() }) {
        case ["identitysecuritydefaultsenforcementpolicy"]:
            return try securityDefaultsPolicy(request)
        case ["authenticationmethodspolicy"]:
            return try authenticationMethodsPolicy(request)
        case ["authenticationmethodspolicy", "authenticationmethodconfigurations", "temporaryaccesspass"]:
            return try accessPassConfiguration(request)
        default:
            throw GraphFailure(
                status: 400, code: "BadRequest", message: "Resource not found for the segment '\(rest.first ?? "policies")'.")
        }
    }

    private func resource(_ request: FakeRequest, type: String, key: CollectionSegment, rest: [String]) throws -> HTTPResponse {
        if let property = key.keyProperty, let value = key.keyValue {
            return try alternateKey(request, type: type, property: property, value: value, rest: rest)
        }
        let body = request.body ?? [:]
        switch (rest.count, request.method) {
        case (0, "GET"):
            // With $filter, the whole collection is read only when the filter is not an index look-up: replicating every id
            // first made each look-up cost the whole collection (guests.invite at 100,000 users stalled on it).
            if request.query["$filter"] != nil {
                return try list(request, items: { replicatedIDs(ofType: type).compactMap { directory.object($0)?.properties } }, type: type)
            }
            return try list(request, ids: replicatedIDs(ofType: type), object: { directory.object($0)?.properties }, type: type)
        case (1, "GET") where rest[0] == "$count":
            return try countSegment(request, replicatedIDs(ofType: type).count)
        case (1, "GET") where Self.castType(rest[0]) != nil, (2, "GET") where Self.castType(rest[0]) != nil && rest[1] == "$count":
            // A type cast segment, in both spellings (`microsoft.graph.ipNamedLocation`, `graph.ipNamedLocation`): concepts/query-parameters.md.
            let cast = Self.castType(rest[0])!
            let ids = replicatedIDs(ofType: type).filter { id in
                guard let entry = directory.object(id) else { return false }
                return entry.type == cast || entry.properties["@odata.type"]?.stringValue == "#microsoft.graph.\(cast)"
            }
            if rest.count == 2 { return try countSegment(request, ids.count) }
            return try list(request, ids: ids, object: { directory.object($0)?.properties }, type: type)
        case (0, "POST"):
            let object = try create(type, body)
            return try json(201, withType(object, type))
        case (1, "GET") where rest[0] == "delta" && (type == "user" || type == "group"):
            return try delta(request, type: type)
        case (1, "GET"):
            // Within the replication lag a read by id may miss the new object (concepts/aad-advanced-queries.md, concepts/known-issues.md): it does here.
            if profile.strictRules.eventualReads, directory.object(rest[0]) != nil, visible(rest[0]) == nil {
                throw GraphFailure.notFound(rest[0])
            }
            return try json(
                200, defaultSet(select(try expand(withType(get(rest[0], type: type), type), request), request), type: type, request))
        case (1, "PATCH"):
            _ = try get(rest[0], type: type)
            try update(type, id: rest[0], body)
            return HTTPResponse(status: 204)
        case (1, "DELETE"):
            let entry = try get(rest[0], type: type)
            try deleteObject(rest[0], type: type, properties: entry)
            return HTTPResponse(status: 204)
        case (2, _), (3, _), (4, _):
            _ = try get(rest[0], type: type)
            return try navigation(request, type: type, id: rest[0], rest: Array(rest.dropFirst()))
        default:
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on \(request.path).")
        }
    }

    private func alternateKey(_ request: FakeRequest, type: String, property: String, value: String, rest: [String]) throws -> HTTPResponse
    {
        guard FakeCollections.alternateKeys[type]?.contains(property) == true else {
            throw GraphFailure.badRequest("The alternate key '\(property)' is not supported on \(type).")
        }
        guard rest.isEmpty else { throw GraphFailure.badRequest("Navigation through an alternate key is not supported.") }
        let existing = directory.lookup(type, property, value)
        switch request.method {
        case "GET":
            guard let existing else { throw GraphFailure.notFound(value) }
            return try json(200, withType(try get(existing, type: type), type))
        case "PATCH":
            if let existing {
                try update(type, id: existing, request.body ?? [:])
                return HTTPResponse(status: 204)
            }
            guard FakeCollections.upsertable.contains(type), request.headers["prefer"]?.lowercased().contains("create-if-missing") == true
            else {
                throw GraphFailure.notFound(value)
            }
            var body = request.body ?? [:]
            body[property] = .string(value)
            return try json(201, withType(try create(type, body, keyProperty: property), type))
        case "DELETE":
            guard let existing else { throw GraphFailure.notFound(value) }
            try deleteObject(existing, type: type, properties: try get(existing, type: type))
            return HTTPResponse(status: 204)
        default:
            throw GraphFailure(status: 405, code: "Request_BadRequest", message: "\(request.method) is not supported on an alternate key.")
        }
    }

    private func navigation(_ request: FakeRequest, type: String, id: String, rest: [String]) throws -> HTTPResponse {
        let name = rest[0]
        let body = request.body ?? [:]
        switch (type, name, request.method, rest.count) {
        case (_, "members", "GET", 1), (_, "owners", "GET", 1), (_, "federatedIdentityCredentials", "GET", 1),
            (_, "appRoleAssignedTo", "GET", 1), (_, "appRoleAssignments", "GET", 1):
            return try list(
                request, ids: replicatedTargets(of: id, name),
                object: { target in directory.object(target).map { FakeTenant.typed($0.properties, $0.type) } }, type: nil)
        case (_, "members", "GET", 2) where rest[1] == "$count", (_, "owners", "GET", 2) where rest[1] == "$count":
            return try countSegment(request, replicatedTargets(of: id, name).count)
        case (_, "members", "GET", 2) where Self.castType(rest[1]) != nil, (_, "owners", "GET", 2) where Self.castType(rest[1]) != nil:
            // `/groups/{id}/members/microsoft.graph.user` or `…/graph.user` (api-reference/v1.0/api/group-list-members.md, concepts/query-parameters.md).
            let cast = Self.castType(rest[1])!
            let ids = replicatedTargets(of: id, name).filter { directory.object($0)?.type == cast }
            return try list(
                request, ids: ids, object: { target in directory.object(target).map { FakeTenant.typed($0.properties, $0.type) } },
                type: nil)
        case ("group", "members", "POST", 2), ("group", "owners", "POST", 2), ("application", "owners", "POST", 2),
            ("servicePrincipal", "owners", "POST", 2), ("administrativeUnit", "members", "POST", 2):
            guard rest[1] == "$ref", let reference = body["@odata.id"] else {
                throw GraphFailure.badRequest("The request body must contain @odata.id.")
            }
            try bind(id, type: type, relation: name, references: [reference])
            return HTTPResponse(status: 204)
        case (_, "members", "DELETE", 3), (_, "owners", "DELETE", 3):
            guard rest[2] == "$ref", directory.hasLink(id, name, rest[1]) else { throw GraphFailure.notFound(rest[1]) }
            try directory.transaction {
                try directory.removeLink(id, name, rest[1])
                try directory.touch(id)
            }
            return HTTPResponse(status: 204)
        case ("user", "manager", "GET", 1):
            guard let manager = directory.targets(of: id, "manager").first, let entry = directory.object(manager) else {
                throw GraphFailure.notFound("manager")
            }
            return try json(200, withType(entry.properties, entry.type))
        case ("user", "manager", "PUT", 2):
            guard rest[1] == "$ref", let reference = body["@odata.id"] else {
                throw GraphFailure.badRequest("The request body must contain @odata.id.")
            }
            let manager = try resolve([reference], allowed: ["user"]).first!
            guard manager != id else { throw GraphFailure.badRequest("A user cannot be their own manager.") }
            try directory.transaction {
                for old in directory.targets(of: id, "manager") { try directory.removeLink(id, "manager", old) }
                try directory.addLink(id, "manager", manager)
                try directory.touch(id)
            }
            return HTTPResponse(status: 204)
        case ("user", "manager", "DELETE", 2):
            guard let manager = directory.targets(of: id, "manager").first else { throw GraphFailure.notFound("manager") }
            try directory.transaction {
                try directory.removeLink(id, "manager", manager)
                try directory.touch(id)
            }
            return HTTPResponse(status: 204)
        case ("application", "addPassword", "POST", 1):
            return try json(200, try addPassword(id, body))
        case ("application", "federatedIdentityCredentials", "POST", 1):
            return try json(201, try addFederatedCredential(id, body))
        case ("servicePrincipal", "appRoleAssignedTo", "POST", 1):
            return try json(201, try assignAppRole(resource: id, body))
        case ("servicePrincipal", "appRoleAssignedTo", "DELETE", 2):
            guard directory.hasLink(id, "appRoleAssignedTo", rest[1]), let assignment = directory.object(rest[1]) else {
                throw GraphFailure.notFound(rest[1])
            }
            try directory.transaction {
                if let principal = assignment.properties["principalId"]?.stringValue {
                    try directory.removeLink(principal, "appRoleAssignments", rest[1])
                }
                try directory.remove(rest[1])
            }
            return HTTPResponse(status: 204)
        case ("user", "assignLicense", "POST", 1), ("group", "assignLicense", "POST", 1):
            // A group's licences are processed in the background: 202 Accepted (api-reference/v1.0/api/group-assignlicense.md); a user's: 200 (api-reference/v1.0/api/user-assignlicense.md).
            return try json(type == "group" ? 202 : 200, withType(try assignLicense(id, type: type, body), type))
        case ("user", "authentication", _, 2), ("user", "authentication", _, 3):
            guard rest[1] == "temporaryAccessPassMethods" else {
                throw GraphFailure.badRequest("Only temporaryAccessPassMethods are served under authentication.")
            }
            return try accessPasses(request, userID: id, passID: rest.count == 3 ? rest[2] : nil)
        case ("domain", "verificationDnsRecords", "GET", 1):
            return try json(200, ["value": .array(verificationRecords(id).map(JSONValue.object))])
        case ("domain", "verify", "POST", 1):
            return try json(200, withType(try verifyDomain(id), "domain"))
        default:
            throw GraphFailure(status: 400, code: "BadRequest", message: "Unsupported request \(request.method) \(request.path).")
        }
    }

    // MARK: - Lists

    /// `microsoft.graph.user` or `graph.user` → `user` (a type-cast segment), else `nil`.
    static func castType(_ segment: String) -> String? {
        for prefix in ["microsoft.graph.", "graph."] where segment.hasPrefix(prefix) && segment.count > prefix.count {
            let name = String(segment.dropFirst(prefix.count))
            return GraphSchema.v1.shortName(name) ?? name
        }
        return nil
    }

    /// The ids replication has made visible: for the profile's lag a new object is missing from lists, `$filter` and
    /// `$count` (concepts/aad-advanced-queries.md, concepts/known-issues.md: eventual consistency), as it is from references.
    func replicated(_ ids: [String]) -> [String] {
        guard let lag = listLag() else { return ids }
        return ids.filter { !lag.isHidden($0) }
    }

    /// The objects of `type` replication has made visible, in creation order.
    func replicatedIDs(ofType type: String) -> [String] {
        let ids = directory.ids(ofType: type)
        guard let hidden = listLag()?.hidden(ofType: type), !hidden.isEmpty else { return ids }
        return ids.filter { !hidden.contains($0) }
    }

    /// The targets of `source`'s `relation` replication has made visible, in order.
    func replicatedTargets(of source: String, _ relation: String) -> [String] {
        let ids = directory.targets(of: source, relation)
        guard let lag = listLag() else { return ids }
        if lag.count < ids.count {
            // Fewer objects wait than the relation holds (a group of 100,000 members): look the waiting ones up in it.
            let hidden = Set(lag.hiddenIDs.filter { directory.hasLink(source, relation, $0) })
            return hidden.isEmpty ? ids : ids.filter { !hidden.contains($0) }
        }
        return ids.filter { !lag.isHidden($0) }
    }

    /// The replication lag as lists see it now, or `nil` when lists show everything.
    private func listLag() -> ReplicationLag? {
        guard profile.strictRules.eventualLists, !directory.replicationLag.isEmpty else { return nil }
        directory.replicationLag.advance(to: now())
        return directory.replicationLag.isEmpty ? nil : directory.replicationLag
    }

    /// `/users/$count`: a plain-text count, only with `ConsistencyLevel: eventual` (concepts/aad-advanced-queries.md, api-reference/v1.0/api/user-list.md).
    func countSegment(_ request: FakeRequest, _ count: Int) throws(GraphFailure) -> HTTPResponse {
        guard request.headers["consistencylevel"]?.lowercased() == "eventual" else {
            throw GraphFailure.badRequest(
                "Count is not currently supported without the ConsistencyLevel: eventual header.", code: "Request_BadRequest")
        }
        return HTTPResponse(status: 200, headers: ["Content-Type": "text/plain"], body: Data(String(count).utf8))
    }

    /// Without `$select`, only the type's default property set (api-reference/v1.0/resources/user.md, api-reference/v1.0/resources/group.md "Returned by default"), when the profile's
    /// `strictRules.defaultPropertySet` is on.
    func defaultSet(_ item: JSONObject, type: String?, _ request: FakeRequest) -> JSONObject {
        guard profile.strictRules.defaultPropertySet, request.query["$select"] == nil, let type, let names = DefaultPropertySet.byType[type]
        else { return item }
        return item.filter {
            names.contains($0.key) || $0.key.hasPrefix("@") || $0.key == "members" || $0.key == "manager" || $0.key == "owners"
        }
    }

    /// A collection page with `$filter`, `$select`, `$top`, `$count`, `$expand` and an expiring `$skiptoken`.
    /// `all` is only evaluated when the request is not an index look-up.
    func list(_ request: FakeRequest, items all: () -> [JSONObject], type: String?) throws -> HTTPResponse {
        let eventual = request.headers["consistencylevel"]?.lowercased() == "eventual"
        var items: [JSONObject]
        if let text = request.query["$filter"] {
            let filter = try ODataFilter(text)
            if filter.isAdvanced, !(eventual && request.query["$count"] == "true") {
                throw GraphFailure.unsupported("This filter needs the ConsistencyLevel: eventual header and $count=true (advanced query).")
            }
            if let type, let equality = filter.equality, FakeDirectory.uniqueProperties[type]?.contains(equality.property) == true {
                items = replicated(directory.lookup(type, equality.property, equality.value).map { [$0] } ?? [])
                    .compactMap { directory.object($0)?.properties }
            } else {
                items = all().filter(filter.matches)
            }
        } else {
            items = all()
        }
        return try page(request, count: items.count, type: type) { Array(items[$0]) }
    }

    /// A collection page of objects by id, materialising only the page (a group of 100,000 members is read
    /// 999 at a time); with `$filter` every object is looked at, as ``list(_:items:type:)`` does.
    func list(_ request: FakeRequest, ids: [String], object: (String) -> JSONObject?, type: String?) throws -> HTTPResponse {
        guard request.query["$filter"] == nil else { return try list(request, items: { ids.compactMap(object) }, type: type) }
        return try page(request, count: ids.count, type: type) { ids[$0].compactMap(object) }
    }

    /// One page of `count` items (`items` gives a range of them) with `$top`, `$skiptoken`, `$count`, `$select` and `$expand`.
    private func page(_ request: FakeRequest, count: Int, type: String?, items: (Range<Int>) -> [JSONObject]) throws -> HTTPResponse {
        if request.query["$count"] == "true", request.headers["consistencylevel"]?.lowercased() != "eventual" {
            throw GraphFailure.unsupported("$count requires the ConsistencyLevel: eventual header.")
        }
        let top = try pageSize(request)
        var offset = 0
        if let token = request.query["$skiptoken"] { offset = try skipOffset(token) }
        let range = min(offset, count)..<min(count, offset + top)
        let names = request.query["$select"].map(Self.selectedNames)
        let slice = try items(range).map { item in
            let typed = type.map { withType(item, $0) } ?? item
            return JSONValue.object(defaultSet(select(try expand(typed, request), names), type: type, request))
        }
        var body: JSONObject = ["value": .array(slice)]
        if request.query["$count"] == "true" { body["@odata.count"] = .number(Double(count)) }
        if offset + top < count {
            body["@odata.nextLink"] = .string(nextLink(request, replacing: ["$skiptoken": skipToken(offset + top)]))
        }
        return try json(200, body)
    }

    func pageSize(_ request: FakeRequest) throws(GraphFailure) -> Int {
        guard let text = request.query["$top"] else { return 100 }
        guard let value = Int(text), value > 0, value <= 999 else {
            throw GraphFailure.badRequest(
                "Invalid page size specified: '\(text)'. Must be between 1 and 999 inclusive.", code: "Request_UnsupportedQuery")
        }
        return value
    }

    /// Skip tokens are opaque and expire after ten minutes of tenant time, as Graph's do.
    func skipToken(_ offset: Int, since: Int64? = nil) -> String {
        var text = "o:\(offset);t:\(Int(now().timeIntervalSince1970))"
        if let since { text += ";s:\(since)" }
        return Data(text.utf8).base64EncodedString()
    }

    func decodeToken(_ token: String) throws(GraphFailure) -> [String: Int64] {
        guard let data = Data(base64Encoded: token), let text = String(data: data, encoding: .utf8) else {
            throw GraphFailure.badRequest("Invalid skip token.")
        }
        var fields: [String: Int64] = [:]
        for part in text.split(separator: ";") {
            let pair = part.split(separator: ":", maxSplits: 1)
            guard pair.count == 2, let value = Int64(pair[1]) else { throw GraphFailure.badRequest("Invalid skip token.") }
            fields[String(pair[0])] = value
        }
        if let issued = fields["t"], now().timeIntervalSince1970 - Double(issued) > 600 {
            throw GraphFailure(
                status: 400, code: "Directory_ExpiredPageToken",
                message: "The specified page token value has expired and can no longer be included in your request.")
        }
        return fields
    }

    func skipOffset(_ token: String) throws(GraphFailure) -> Int {
        guard let offset = try decodeToken(token)["o"], offset >= 0 else { throw GraphFailure.badRequest("Invalid skip token.") }
        return Int(offset)
    }

    func nextLink(_ request: FakeRequest, replacing: [String: String]) -> String {
        var query = request.query
        for (key, value) in replacing { query[key] = value }
        return request.base
            + GraphClient.encode(path: request.path, query: query.sorted { $0.key < $1.key }.map { QueryItem($0.key, $0.value) })
    }

    func select(_ item: JSONObject, _ request: FakeRequest) -> JSONObject {
        select(item, request.query["$select"].map(Self.selectedNames))
    }

    /// The property names of a `$select` (parsed once per page, not once per item).
    static func selectedNames(_ text: String) -> Set<String> {
        Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    func select(_ item: JSONObject, _ names: Set<String>?) -> JSONObject {
        guard let names else { return item }
        // Built from the few selected names rather than by filtering every property of the object (a page of 999 users).
        var selected = JSONObject(minimumCapacity: names.count + 4)
        for (key, value) in item where key.utf8.first == UInt8(ascii: "@") { selected[key] = value }
        for name in ["id", "members", "manager"] { if let value = item[name] { selected[name] = value } }
        // Graph answers every selected property, with null when it is not set.
        let properties = item["@odata.type"]?.stringValue.flatMap { GraphSchema.v1.type(named: $0)?.properties }
        for name in names {
            if let value = item[name] {
                selected[name] = value
            } else if properties?[name] != nil {
                selected[name] = .null
            }
        }
        return selected
    }

    /// `$expand=members`, `$expand=owners` on groups and `$expand=manager` on users.
    func expand(_ item: JSONObject, _ request: FakeRequest) throws(GraphFailure) -> JSONObject {
        guard let text = request.query["$expand"], let id = item["id"]?.stringValue else { return item }
        // concepts/query-parameters.md: `$expand` is not supported with advanced queries.
        if request.headers["consistencylevel"]?.lowercased() == "eventual" {
            throw GraphFailure.badRequest(
                "$expand is not supported with advanced queries (ConsistencyLevel: eventual).", code: "Request_UnsupportedQuery")
        }
        var object = item
        for part in Self.expansions(text) {
            let name = String(part.split(separator: "(").first ?? Substring(part)).trimmingCharacters(in: .whitespaces)
            guard ["members", "owners", "manager"].contains(name) else {
                throw GraphFailure.badRequest("Parsing OData Select and Expand failed: Could not find a property named '\(name)'.")
            }
            // `manager($select=id)`: only the selected properties of the expanded objects.
            var nested: Set<String>?
            if let open = part.firstIndex(of: "("), part.hasSuffix(")") {
                let options = part[part.index(after: open)..<part.index(before: part.endIndex)]
                for option in options.split(separator: ";") where option.hasPrefix("$select=") {
                    nested = Set(option.dropFirst("$select=".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
                }
            }
            let references: [JSONValue] = directory.targets(of: id, name).compactMap { target in
                directory.object(target).map { entry in
                    var reference: JSONObject = ["@odata.type": .string("#microsoft.graph.\(entry.type)"), "id": .string(target)]
                    for property in nested ?? ["displayName"] where property != "id" {
                        reference[property] = entry.properties[property] ?? .null
                    }
                    return .object(reference)
                }
            }
            // At most 20 expanded items and no nextLink for directory objects (concepts/query-parameters.md, concepts/known-issues.md).
            object[name] = name == "manager" ? (references.first ?? .null) : .array(Array(references.prefix(20)))
        }
        return object
    }

    /// The comma-separated items of `$expand`, keeping commas inside parentheses: `manager($select=id,displayName),owners`.
    static func expansions(_ text: String) -> [String] {
        var parts: [String] = [], current = "", depth = 0
        for character in text {
            switch character {
            case "(": depth += 1
            case ")": depth -= 1
            case "," where depth == 0:
                parts.append(current)
                current = ""
                continue
            default: break
            }
            current.append(character)
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }

    // MARK: - Delta

    /// `/users/delta` and `/groups/delta`: everything first, then changes since the delta link's token.
    func delta(_ request: FakeRequest, type: String) throws -> HTTPResponse {
        var since: Int64 = -1
        var offset = 0
        var upTo = directory.currentChange
        if let token = request.query["$deltatoken"] {
            // `latest`: no objects, only a delta link from now on (Graph's way to start tracking without a full read).
            if token == "latest" {
                let latest = Data("s:\(upTo - 1)".utf8).base64EncodedString()
                let base = request.base + "/" + (type == "user" ? "users" : "groups") + "/delta"
                return try json(
                    200,
                    [
                        "value": [],
                        "@odata.deltaLink": .string(
                            base + "?$deltatoken=" + (latest.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? latest)),
                    ])
            }
            since = try decodeToken(token)["s"] ?? -1
        }
        if let token = request.query["$skiptoken"] {
            let fields = try decodeToken(token)
            offset = Int(fields["o"] ?? 0)
            since = fields["s"] ?? -1
            upTo = fields["u"] ?? upTo
        }
        var items: [JSONObject] = directory.ids(ofType: type).compactMap { id in
            guard let entry = directory.object(id), entry.changed > since, entry.changed < upTo else { return nil }
            var object = withType(entry.properties, type)
            if type == "group" {
                object["members@delta"] = .array(directory.targets(of: id, "members").map { ["id": .string($0)] })
            }
            return object
        }
        if since >= 0 {
            items += directory.tombstones.filter { $0.type == type && $0.sequence > since && $0.sequence < upTo }.map {
                ["id": .string($0.id), "@removed": ["reason": "deleted"]]
            }
        }
        let top = try pageSize(request)
        let names = request.query["$select"].map(Self.selectedNames)
        let page = items.dropFirst(offset).prefix(top).map { JSONValue.object(select($0, names)) }
        var body: JSONObject = ["value": .array(Array(page))]
        let base = request.base + "/" + (type == "user" ? "users" : "groups") + "/delta"
        if offset + top < items.count {
            let token = Data("o:\(offset + top);t:\(Int(now().timeIntervalSince1970));s:\(since);u:\(upTo)".utf8).base64EncodedString()
            body["@odata.nextLink"] = .string(
                base + "?$skiptoken=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token))
        } else {
            let token = Data("s:\(upTo - 1)".utf8).base64EncodedString()
            body["@odata.deltaLink"] = .string(
                base + "?$deltatoken=" + (token.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? token))
        }
        return try json(200, body)
    }

    // MARK: - $batch

    /// JSON batching: at most 20 requests with unique ids; `dependsOn` orders them; each has its own status.
    func batch(_ request: FakeRequest, app: String, roles: Set<String>) throws -> HTTPResponse {
        guard let requests = request.body?["requests"]?.arrayValue else {
            throw GraphFailure.badRequest("Invalid batch payload: a 'requests' array is required.", code: "BadRequest")
        }
        guard requests.count <= 20 else {
            throw GraphFailure.badRequest("Invalid batch payload: the number of requests exceeds the limit of 20.", code: "BadRequest")
        }
        var byID: [String: JSONObject] = [:]
        var order: [String] = []
        for item in requests {
            guard let object = item.objectValue, let id = object["id"]?.stringValue, object["method"]?.stringValue != nil,
                object["url"]?.stringValue != nil
            else {
                throw GraphFailure.badRequest("Invalid batch payload: every request needs id, method and url.", code: "BadRequest")
            }
            guard byID[id] == nil else {
                throw GraphFailure.badRequest("Invalid batch payload: request id '\(id)' is not unique.", code: "BadRequest")
            }
            byID[id] = object
            order.append(id)
        }
        var statuses: [String: Int] = [:]
        var responses: [JSONValue] = []
        var pending = order
        while !pending.isEmpty {
            guard
                let index = pending.firstIndex(where: { id in
                    (byID[id]?["dependsOn"]?.stringArray ?? []).allSatisfy { statuses[$0] != nil }
                })
            else {
                throw GraphFailure.badRequest(
                    "Invalid batch payload: dependsOn refers to an unknown request or forms a cycle.", code: "BadRequest")
            }
            let id = pending.remove(at: index)
            let item = byID[id]!
            let dependencies = item["dependsOn"]?.stringArray ?? []
            if dependencies.contains(where: { !(200..<300).contains(statuses[$0] ?? 0) }) {
                statuses[id] = 424
                responses.append([
                    "id": .string(id), "status": 424, "body": ["error": ["code": "BadRequest", "message": "Failed dependency."]],
                ])
                continue
            }
            var headers = (item["headers"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
            var body: JSONValue?
            if let json = item["body"], !json.isNull {
                guard headers.keys.contains(where: { $0.lowercased() == "content-type" }) else {
                    statuses[id] = 400
                    responses.append([
                        "id": .string(id), "status": 400,
                        "body": ["error": ["code": "BadRequest", "message": "Content-Type header is required for a request with a body."]],
                    ])
                    continue
                }
                body = json
            }
            // Graph's inner urls are relative to the version ("/users"); Microsoft's SDKs also send "/v1.0/users" or the full URL.
            var url = item["url"]!.stringValue!
            if let version = url.range(of: "/v1.0/"), url.hasPrefix("http") || url.hasPrefix("/v1.0/") {
                url = String(url[url.index(before: version.upperBound)...])
            }
            headers["x-lifeboat-batch"] = "1"
            // Inner requests and responses stay values: they are parts of the batch's own JSON.
            var inner = HTTPRequest(
                method: item["method"]!.stringValue!.uppercased(), url: request.base + (url.hasPrefix("/") ? url : "/" + url),
                headers: headers)
            inner.json = body
            let response: HTTPResponse
            switch reply(to: inner, app: app, bodiesAsValues: true, roles: roles) {
            case .response(let answer): response = answer
            case .lostResponse:
                response = GraphFailure(status: 504, code: "GatewayTimeout", message: "Timed out after the request was applied.").response(
                    requestID: newID(), date: "")
            }
            statuses[id] = response.status
            var entry: JSONObject = [
                "id": .string(id), "status": .number(Double(response.status)),
                "headers": .object(response.headers.filter { $0.key != "request-id" }.mapValues(JSONValue.string)),
            ]
            if let json = response.json {
                entry["body"] = json
            } else if !response.body.isEmpty {
                entry["body"] = (try? JSONCoding.decode(response.body)) ?? .null
            }
            responses.append(.object(entry))
        }
        // Graph returns batch responses in any order.
        var shuffled = responses
        shuffled.shuffle(using: &random)
        return try json(200, ["responses": .array(shuffled)])
    }
}

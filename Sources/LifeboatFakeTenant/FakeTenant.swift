import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatSQLite

/// A fake Entra tenant that answers Microsoft Graph v1.0 requests the way Graph does where it
/// matters for a rebuild: new ids, uniqueness rules, verified UPN domains, `@odata.bind` limits and
/// atomicity, upserts by alternate key, the recycle bin, paging, delta, `$batch`, Graph's throttling,
/// replication lag, transient faults and Graph's error bodies.
///
/// Its state lives in SQLite (when given a file), so a killed tabletop resumes against the same tenant.
/// Where Graph's behaviour is undocumented the fake takes the more hostile option; those choices are
/// listed in `Docs/fake-tenant.md`.
package actor FakeTenant {
    let directory: FakeDirectory
    private let executor: DispatchQueueExecutor
    let timestamp = ISO8601DateFormatter()
    /// The latest ``nowStamp()``.
    private var lastStamp: (second: Double, text: String)?
    var ids: IdentifierSource
    /// The tenant's behaviour: throttling, lag and faults.
    package nonisolated let profile: FakeTenantProfile
    /// ``grantedPermissions``, built once: every in-process request is checked against it.
    private nonisolated let defaultRoles: Set<String>
    /// The tenant's clock: simulated in process, the wall clock behind the HTTP server.
    let clock: @Sendable () -> Date
    var throttle: ThrottleModel
    var random: SeededRandom
    /// Set while answering a caller that takes JSON bodies as values (see ``reply(to:app:bodiesAsValues:)``).
    private var answersWithValues = false
    /// Graph writes wait for ``commit()`` to reach the state file (see ``init(stateFile:tenantID:initialDomain:seed:profile:clock:defersCommits:)``).
    private let defersCommits: Bool

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// The tenant's id.
    package nonisolated let tenantID: String
    /// The tenant's initial `*.onmicrosoft.com` domain.
    package nonisolated let initialDomain: String

    /// Days an object stays in the recycle bin.
    package static let recycleBinDays = 30.0

    /// Opens the fake tenant stored at `stateFile` (in memory when `nil`), creating it with
    /// `tenantID` and `initialDomain` when the file is new.
    ///
    /// With a `seed`, the ids the tenant assigns are deterministic (for golden tests and reproducible drills).
    /// `clock` is the tenant's notion of now (a ``VirtualClock`` in tabletops).
    ///
    /// With `defersCommits` (an in-process tenant whose caller commits, see ``commit()``), Graph writes are committed
    /// to the state file together when asked rather than one by one.
    package init(
        stateFile: String?, tenantID: String? = nil, initialDomain: String = "lifeboat-drill.onmicrosoft.com", seed: UInt64? = nil,
        profile: FakeTenantProfile = .fast, clock: (@Sendable () -> Date)? = nil, defersCommits: Bool = false
    ) throws {
        executor = DispatchQueueExecutor(label: "lifeboat.fake-tenant")
        self.defersCommits = defersCommits
        let directory = try FakeDirectory(path: stateFile)
        self.directory = directory
        self.profile = profile
        defaultRoles = Set(profile.permissions ?? FakeTenantPermissions.defaultGrants)
        self.clock = clock ?? { Date() }
        throttle = ThrottleModel(settings: profile.throttling)
        random = SeededRandom(seed: profile.seed &+ UInt64(directory.objects.count))
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
            try directory.put(
                id, type: "organization",
                properties: [
                    "id": .string(id), "displayName": "Lifeboat fake tenant", "tenantType": "AAD",
                    "verifiedDomains": [["name": .string(domain), "isInitial": true, "isDefault": true, "type": "Managed"]],
                ])
            try directory.put(
                domain, type: "domain",
                properties: [
                    "id": .string(domain), "isInitial": true, "isDefault": true, "isVerified": true, "isRoot": true,
                    "authenticationType": "Managed", "supportedServices": ["Email", "OfficeCommunicationsOnline"],
                ])
            try BuiltInDirectory.seed(directory)
            // The built-in authentication strengths every tenant has (api-reference/v1.0/api/authenticationstrengthroot-list-policies.md).
            for (suffix, name) in [("2", "Multifactor authentication"), ("3", "Passwordless MFA"), ("4", "Phishing-resistant MFA")] {
                let id = "00000000-0000-0000-0000-00000000000" + suffix
                try directory.put(
                    id, type: "authenticationStrengthPolicy",
                    properties: [
                        "id": .string(id), "displayName": .string(name), "policyType": "builtIn", "requirementsSatisfied": "mfa",
                        "allowedCombinations": suffix == "4"
                            ? ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"]
                            : suffix == "3"
                                ? ["windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush"]
                                : [
                                    "windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor", "deviceBasedPush",
                                    "password,microsoftAuthenticatorPush", "password,sms",
                                ],
                        "createdDateTime": "2021-12-01T00:00:00Z", "modifiedDateTime": "2021-12-01T00:00:00Z",
                    ])
            }
        }
    }

    /// The tenant id and initial domain of the fake tenant stored at `stateFile`, read without loading its directory;
    /// `nil` when no tenant is stored there yet.
    package static func identity(stateFile: String) throws -> (tenantID: String, initialDomain: String)? {
        guard FileManager.default.fileExists(atPath: stateFile) else { return nil }
        let db = try SQLiteConnection(path: stateFile)
        var settings: [String: String] = [:]
        for row in try db.query("SELECT key, value FROM settings WHERE key IN ('tenantId', 'initialDomain')") {
            settings[row.string(0) ?? ""] = row.string(1)
        }
        guard let tenantID = settings["tenantId"], let domain = settings["initialDomain"] else { return nil }
        return (tenantID, domain)
    }

    /// Makes every write this tenant acknowledged so far durable in its state file (a no-op unless it defers commits).
    package func commit() throws {
        try directory.commitDeferred()
    }

    // MARK: - Operator and test access

    /// Successful writes this tenant has accepted since it was created.
    package var writeCount: Int { directory.writes }

    /// Requests refused with 429 and requests admitted by the throttling model, since this process opened the tenant.
    package var throttlingCounts: (throttled: Int, admitted: Int) { (throttle.throttledCount, throttle.admittedCount) }

    /// Write units the throttling model admitted since this process opened the tenant (the work a quota paces).
    package var admittedWriteUnits: Int { throttle.admittedWrites }

    /// What each of Graph's limits admitted since this process opened the tenant, for the per-limit lower bounds.
    package var throttlingUsage: ThrottlingUsage {
        ThrottlingUsage(
            writesByApp: throttle.admittedWritesByApp, resourceUnitsByApp: throttle.admittedUnitsByApp,
            conditionalAccessRequests: throttle.admittedConditionalAccess,
            resourceUnitsPer10s: profile.throttling.resourceUnitsPer10s
                ?? ThrottleModel.resourceUnitsPer10s(users: directory.ids(ofType: "user").count))
    }

    /// Every object of a Graph type (`user`, `group`, `application`, …) in creation order.
    package func objects(ofType type: String) -> [JSONObject] {
        directory.ids(ofType: type).compactMap { directory.object($0)?.properties }
    }

    /// Objects in the recycle bin of a type.
    package func deletedObjects(ofType type: String) -> [JSONObject] {
        directory.deleted.values.filter { $0.type == type }.map(\.properties)
    }

    /// The target ids of a relationship (`members`, `owners`, `manager`).
    package func relationship(_ name: String, of id: String) -> [String] { directory.targets(of: id, name) }

    /// Adds a verified (or unverified) custom domain, as an operator would.
    package func addDomain(_ name: String, verified: Bool) throws {
        try directory.transaction {
            try directory.put(
                name.lowercased(), type: "domain",
                properties: [
                    "id": .string(name.lowercased()), "isInitial": false, "isDefault": false, "isVerified": .bool(verified), "isRoot": true,
                    "authenticationType": "Managed", "supportedServices": [],
                ])
        }
    }

    /// Marks a domain's verification TXT record as published in DNS, so `verify` succeeds.
    package func publishDNSRecord(for domain: String) throws {
        try directory.transaction { try directory.setSetting("dns:\(domain.lowercased())", "published") }
    }

    /// A throttling storm, as a tabletop injects it: until `until` (the tenant's clock), Graph's quotas shrink to
    /// `share` of their size (0.25 = a quarter), for every app. A later call replaces an earlier storm.
    package func startThrottlingStorm(share: Double, until: Date) {
        throttle.storm = (share, until)
    }

    /// Deletes objects as an attacker or a botched script would: soft where Graph soft-deletes
    /// (users, Microsoft 365 groups, applications, service principals, administrative units), for good otherwise.
    /// `purge` also empties them from the recycle bin; `deletedDaysAgo` backdates the deletion.
    @discardableResult
    package func delete(ids: [String], purge: Bool = false, deletedDaysAgo: Double = 0) throws -> Int {
        var count = 0
        try directory.transaction {
            for id in ids {
                guard let entry = directory.object(id) else { continue }
                if !purge, softDeletes(entry) {
                    try directory.softDelete(id, at: now().addingTimeInterval(-deletedDaysAgo * 86_400))
                } else {
                    try directory.remove(id)
                }
                count += 1
            }
        }
        return count
    }

    // MARK: - Graph

    /// What the tenant does with a request.
    package enum Reply: Sendable {
        /// The response to send.
        case response(HTTPResponse)
        /// The request was applied, then the connection dropped: the client gets no response.
        case lostResponse
    }

    /// Answers one Graph request on behalf of `app` (throttling is per app per tenant).
    /// A lost response (a profile fault) is answered 504 here; use ``reply(to:app:)`` to see it as a drop.
    ///
    /// `roles` are the application permissions of the caller's token (`nil`: ``grantedPermissions``, the in-process caller).
    package func handle(_ request: HTTPRequest, app: String = "lifeboat", roles: Set<String>? = nil) -> HTTPResponse {
        switch reply(to: request, app: app, roles: roles) {
        case .response(let response): return response
        case .lostResponse:
            return GraphFailure(status: 504, code: "GatewayTimeout", message: "The gateway timed out after the request was applied.")
                .response(requestID: ids.next(), date: nowStamp())
        }
    }

    /// Answers one Graph request, or says that its response is lost after it was applied. With `bodiesAsValues`
    /// (an in-process caller), JSON bodies are answered in ``HTTPResponse/json`` and not written out.
    package func reply(to request: HTTPRequest, app: String = "lifeboat", bodiesAsValues: Bool = false, roles: Set<String>? = nil) -> Reply
    {
        // Stamped with the tenant's clock when it answers: in a tabletop that is the client's simulated clock, which
        // other requests' waits may move before the client reads the answer.
        switch answer(request, app: app, bodiesAsValues: bodiesAsValues, roles: roles ?? grantedPermissions) {
        case .response(var response):
            response.answeredAt = now()
            return .response(response)
        case .lostResponse:
            return .lostResponse
        }
    }

    private func answer(_ request: HTTPRequest, app: String, bodiesAsValues: Bool, roles: Set<String>) -> Reply {
        let outer = answersWithValues
        answersWithValues = bodiesAsValues
        defer { answersWithValues = outer }
        let requestID = ids.next()
        // Only error bodies carry the date: formatting it for every request costs more than the request.
        var date: String { nowStamp() }
        let fake: FakeRequest
        do {
            fake = try FakeRequest(request)
        } catch {
            return .response(error.response(requestID: requestID, date: date))
        }
        // The token's permissions first: a refused request changes nothing and costs nothing (concepts/errors.md: 403).
        if fake.path != "/$batch", let failure = permissionFailure(fake, roles: roles) {
            return .response(failure.response(requestID: requestID, date: date))
        }
        // Throttling is decided before anything else: a refused request changes nothing.
        var extraHeaders: [String: String] = [:]
        if fake.path != "/$batch" {
            let cost = RequestCost.of(method: fake.method, segments: fake.segments, query: fake.query)
            switch throttle.admit(app: app, cost: cost, users: directory.ids(ofType: "user").count, now: now()) {
            case .admitted(let headers):
                extraHeaders = headers
            case .throttled(let retryAfter, var headers):
                if let retryAfter { headers["Retry-After"] = String(retryAfter) }
                return .response(
                    GraphFailure(
                        status: 429, code: "TooManyRequests",
                        message: "Too many requests. The request was throttled; retry after the indicated time.",
                        headers: headers
                    ).response(requestID: requestID, date: date))
            }
        }
        if profile.faults.transientErrorRate > 0, random.chance(profile.faults.transientErrorRate) {
            let status = [500, 503, 504][random.below(3)]
            var failure = GraphFailure(
                status: status, code: status == 503 ? "serviceNotAvailable" : "UnknownError",
                message: "The service is temporarily unavailable (injected fault).")
            if status == 503 { failure.headers["Retry-After"] = String(1 + random.below(5)) }
            return .response(failure.response(requestID: requestID, date: date))
        }
        // A write's first transaction counts it (see FakeDirectory.countsNextWrite); $batch counts itself below, its parts themselves.
        directory.countsNextWrite = fake.method != "GET" && fake.path != "/$batch"
        directory.defersCommits = defersCommits
        defer {
            directory.countsNextWrite = false
            directory.defersCommits = false
        }
        do {
            var response = try route(fake, app: app, roles: roles)
            for (name, value) in extraHeaders { response.headers[name.lowercased()] = value }
            response.headers["request-id"] = requestID
            response.headers["client-request-id"] = fake.headers["client-request-id"] ?? requestID
            if fake.method != "GET", (200..<300).contains(response.status) {
                if directory.countsNextWrite || fake.path == "/$batch" { try directory.countWrite() }
                if profile.faults.lostResponseRate > 0, random.chance(profile.faults.lostResponseRate) { return .lostResponse }
            }
            return .response(response)
        } catch let failure as GraphFailure {
            return .response(failure.response(requestID: requestID, date: date))
        } catch {
            return .response(
                GraphFailure(status: 500, code: "InternalServerError", message: "\(error)").response(requestID: requestID, date: date))
        }
    }

    func now() -> Date { clock() }

    /// `now()` as Graph writes timestamps (ISO 8601, whole seconds), formatted once per second of the tenant's clock:
    /// a tabletop creates thousands of objects in one simulated second, and the formatter costs more than the create.
    func nowStamp() -> String {
        let second = now().timeIntervalSince1970.rounded(.down)
        if let stamp = lastStamp, stamp.second == second { return stamp.text }
        let text = timestamp.string(from: Date(timeIntervalSince1970: second))
        lastStamp = (second, text)
        return text
    }

    /// The application permissions an in-process caller holds: the profile's `permissions`, else
    /// ``FakeTenantPermissions/defaultGrants``.
    package nonisolated var grantedPermissions: Set<String> { defaultRoles }

    /// Graph's 403 when none of the route's permission alternatives is held (the route's reference page, see FakeTenantPermissions).
    func permissionFailure(_ request: FakeRequest, roles: Set<String>) -> GraphFailure? {
        let segments = request.segments
        var memberType: String?
        if let reference = request.body?["@odata.id"]?.stringValue, let id = Self.lastSegment(reference) {
            memberType = directory.entry(id)?.type
        }
        var deletedType: String?
        if segments.count >= 3, segments[0] == "directory", segments[1] == "deletedItems" {
            deletedType = directory.deleted[segments[2]]?.type
        }
        guard
            let rule = FakeTenantPermissions.rule(
                method: request.method, segments: segments, memberType: memberType, deletedType: deletedType),
            !rule.isSatisfied(by: roles)
        else { return nil }
        return GraphFailure(status: 403, code: "Authorization_RequestDenied", message: "Insufficient privileges to complete the operation.")
    }

    func newID() -> String { ids.next() }

    // MARK: - Shared helpers for the handlers

    /// The object, if it exists and replication has made it visible to references.
    func visible(_ id: String) -> FakeDirectory.Entry? {
        // Mostly asked for the type (every reference a request binds): a reopened tenant's object is not parsed for it.
        guard let entry = directory.entry(id) else { return nil }
        if !directory.replicationLag.isEmpty {
            directory.replicationLag.advance(to: now())
            if directory.replicationLag.isHidden(id) { return nil }
        }
        return entry
    }

    /// Records that a new object becomes visible to references only after the profile's replication lag.
    func created(_ id: String, type: String) {
        if profile.replicationLagSeconds > 0 {
            directory.replicationLag.hide(
                id, type: type, until: now().addingTimeInterval(profile.replicationLagSeconds * (0.5 + random.unit())))
        }
    }

    func get(_ id: String, type: String) throws(GraphFailure) -> JSONObject {
        guard let entry = directory.object(id), entry.type == type || (type == "namedLocation" && entry.type == "namedLocation") else {
            throw GraphFailure.notFound(id)
        }
        return entry.properties
    }

    func withType(_ properties: JSONObject, _ type: String) -> JSONObject { Self.typed(properties, type) }

    /// The object with its `@odata.type`, as Graph returns directory objects.
    nonisolated static func typed(_ properties: JSONObject, _ type: String) -> JSONObject {
        var object = properties
        if object["@odata.type"] == nil { object["@odata.type"] = .string("#microsoft.graph.\(type)") }
        return object
    }

    func json(_ status: Int, _ object: JSONObject) throws -> HTTPResponse {
        guard answersWithValues else {
            return HTTPResponse(
                status: status, headers: ["Content-Type": "application/json"], body: try JSONCoding.encode(JSONValue.object(object)))
        }
        var response = HTTPResponse(status: status, headers: ["Content-Type": "application/json"])
        response.json = .object(object)
        return response
    }

    func require(_ body: JSONObject, _ names: [String], type: String) throws(GraphFailure) {
        for name in names where body[name] == nil || body[name]!.isNull {
            throw GraphFailure.badRequest("Property '\(name)' is required when creating the object of type '\(type)'.")
        }
    }

    func softDeletes(_ entry: FakeDirectory.Entry) -> Bool {
        switch entry.type {
        case "user", "application", "servicePrincipal", "administrativeUnit": return true
        case "group": return entry.properties["groupTypes"]?.stringArray?.contains("Unified") == true
        default: return false
        }
    }
}

/// Object ids: a deterministic sequence from a seed (SplitMix64), or from a random seed drawn once
/// (`UUID()` reads /dev/urandom on every call, and the fake issues an id for every request it answers).
struct IdentifierSource {
    private var state: UInt64

    init(seed: UInt64?) {
        state = seed ?? UInt64.random(in: .min ... .max)
    }

    mutating func next() -> String {
        var generator = SeededRandom(seed: state)
        var bytes =
            withUnsafeBytes(of: generator.next().bigEndian, Array.init) + withUnsafeBytes(of: generator.next().bigEndian, Array.init)
        state = generator.state
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let uuid = UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
        return uuid.uuidString.lowercased()
    }
}

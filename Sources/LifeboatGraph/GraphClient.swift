import Foundation
import LifeboatJSON
import Logging
import Synchronization

/// One query option, kept in order so that URLs are deterministic.
package struct QueryItem: Sendable, Hashable {
    package var name: String
    package var value: String
    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A Graph request relative to the version root, e.g. `POST /users`.
package struct GraphRequest: Sendable, Hashable {
    package var method: String
    /// The path below the version root, starting with `/`, not yet percent-encoded.
    package var path: String
    package var query: [QueryItem]
    package var headers: [String: String]
    package var body: JSONValue?
    /// Set when the request refers to objects this run has just created (the ID map says so):
    /// Graph's replication lag can hide them for seconds, so "not found" answers are retried
    /// with jittered backoff (``RetryPolicy/maxReplicationAttempts``) instead of failing at once.
    package var awaitsReplication: Bool = false

    package init(_ method: String, _ path: String, query: [QueryItem] = [], headers: [String: String] = [:], body: JSONValue? = nil) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// `true` for methods that change the directory.
    package var isWrite: Bool { method != "GET" && method != "HEAD" }
}

/// A successful Graph response with its JSON body (if any).
package struct GraphResponse: Sendable {
    package var status: Int
    package var headers: [String: String]
    package var body: JSONValue?

    /// The body as an object, or an empty object.
    package var object: JSONObject { body?.objectValue ?? [:] }
}

/// Supplies bearer tokens for Graph; live rebuilds use client credentials, tabletops none.
package protocol AccessTokenProvider: Sendable {
    /// A valid access token (fetching or renewing it as needed).
    func accessToken() async throws -> String
    /// Forgets the cached token after Graph refused it.
    func invalidate() async
}

/// How the client reacts to throttling and transient failures.
package struct RetryPolicy: Sendable {
    /// Attempts for a request that keeps being throttled (429).
    package var maxThrottledAttempts: Int
    /// Attempts for a read that keeps failing with a transient error.
    package var maxTransientAttempts: Int
    /// First backoff, in seconds, when Graph gives no Retry-After.
    package var initialBackoff: Double
    /// Longest backoff, in seconds.
    package var maxBackoff: Double
    /// Attempts for a request marked ``GraphRequest/awaitsReplication`` that keeps answering "not found".
    package var maxReplicationAttempts: Int

    package init(
        maxThrottledAttempts: Int = 30, maxTransientAttempts: Int = 6, initialBackoff: Double = 1, maxBackoff: Double = 60,
        maxReplicationAttempts: Int = 6
    ) {
        self.maxThrottledAttempts = maxThrottledAttempts
        self.maxTransientAttempts = maxTransientAttempts
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.maxReplicationAttempts = maxReplicationAttempts
    }

    /// Capped exponential backoff with full jitter for the given (1-based) attempt.
    package func backoff(attempt: Int) -> Double {
        let ceiling = min(maxBackoff, initialBackoff * pow(2, Double(max(0, attempt - 1))))
        return Double.random(in: (ceiling / 2)...ceiling)
    }
}

/// Microsoft Graph over an injected transport: URLs, JSON, errors, throttling and paging.
///
/// Writes are never retried blindly: a write that may have been applied surfaces as
/// ``GraphError/Kind/ambiguous`` so that the engine reconciles by natural key first.
///
/// With a ``ThroughputGovernor`` every request (every inner request of a `$batch`) is admitted
/// against Graph's quotas first and 429s pause all requests, not just the throttled one. With a
/// `Logger`, each attempt is logged at `debug` (method, path, status, request-id, duration) and
/// its redacted headers and body at `trace`; see ``Redaction``.
package struct GraphClient: Sendable {
    /// The version root, e.g. `https://graph.microsoft.com/v1.0`.
    package let baseURL: String
    /// The first app registration's transport.
    package let transport: any HTTPTransport
    package let clock: any GraphClock
    /// The first app registration's tokens.
    package let tokens: (any AccessTokenProvider)?
    /// The application registrations requests are spread over (Graph's write and resource-unit quotas are per app):
    /// the ``governor`` picks the one whose quotas admit a request first, round robin without a governor.
    package let apps: [GraphApp]
    private let rotation = AppRotation()
    package let retry: RetryPolicy
    /// Sent as `x-ms-throttle-priority`; a recovery is operator-driven.
    package var throttlePriority: String? = "High"
    /// Paces requests under Graph's quotas; `nil` sends as fast as callers ask.
    package var governor: ThroughputGovernor?
    /// Where request and response lines go; `nil` logs nothing.
    package var logger: Logger?
    /// Seconds a request may take before the transport gives up on it.
    package var requestTimeout: Double = 100

    package init(
        baseURL: String, transport: any HTTPTransport, clock: any GraphClock = SystemClock(),
        tokens: (any AccessTokenProvider)? = nil, retry: RetryPolicy = RetryPolicy(),
        governor: ThroughputGovernor? = nil, logger: Logger? = nil
    ) {
        self.init(
            baseURL: baseURL, apps: [GraphApp(name: "", transport: transport, tokens: tokens)], clock: clock, retry: retry,
            governor: governor, logger: logger)
    }

    /// A client over several app registrations (at least one; the governor's ``ThroughputGovernor/Configuration/apps``
    /// should be `apps.count`, each app then has its own quota windows).
    package init(
        baseURL: String, apps: [GraphApp], clock: any GraphClock = SystemClock(), retry: RetryPolicy = RetryPolicy(),
        governor: ThroughputGovernor? = nil, logger: Logger? = nil
    ) {
        precondition(!apps.isEmpty, "a Graph client needs at least one app registration")
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apps = apps
        transport = apps[0].transport
        tokens = apps[0].tokens
        self.clock = clock
        self.retry = retry
        self.governor = governor
        self.logger = logger
    }

    /// Sends a request, waiting out throttling; throws ``GraphError`` for anything but 2xx.
    package func send(_ request: GraphRequest) async throws -> GraphResponse {
        try Self.checkPath(request)
        return try await send(
            request, url: baseURL + Self.encode(path: request.path, query: request.query), cost: RequestCost.estimate(request))
    }

    /// Refuses a path that could leave the resource it names once a server normalises it: `.`, `..` or empty segments.
    /// (`%`, `?`, `#`, `\` and control characters are percent-encoded by ``encode(path:query:)``, so they stay inside
    /// their segment.) Ids from a snapshot or a response end up in paths; `/directoryObjects/../../../beta/users/x`
    /// must never become `/beta/users/x`.
    package static func checkPath(_ request: GraphRequest) throws(GraphError) {
        let path = request.path
        var problem: String?
        if !path.hasPrefix("/") {
            problem = "a Graph path starts with /"
        } else if path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().contains(where: {
            $0 == "." || $0 == ".." || $0.isEmpty
        }) {
            problem = "it holds an empty, '.' or '..' segment"
        }
        if let problem {
            throw GraphError(
                kind: .refused, status: 0, code: "InvalidRequestPath",
                message: "refused to send a request whose path is not a plain Graph resource path (\(problem)); an id in it is not valid",
                method: request.method, path: String(path.unicodeScalars.map { $0.value < 0x20 ? "?" : Character($0) }))
        }
    }

    /// `GET` of one resource.
    package func get(_ path: String, query: [QueryItem] = []) async throws -> JSONObject {
        try await send(GraphRequest("GET", path, query: query)).object
    }

    /// `GET` of a collection, following `@odata.nextLink` to the end.
    package func list(_ path: String, query: [QueryItem] = [], headers: [String: String] = [:]) async throws -> [JSONObject] {
        var items: [JSONObject] = []
        try await list(path, query: query, headers: headers) { items += $0 }
        return items
    }

    /// `GET` of a collection, following `@odata.nextLink` to the end and handing over each page's objects as it arrives,
    /// so a caller that keeps less than the whole collection (100,000 users) never holds all of it.
    package func list(
        _ path: String, query: [QueryItem] = [], headers: [String: String] = [:],
        eachPage: ([JSONObject]) throws -> Void
    ) async throws {
        var page = try await send(GraphRequest("GET", path, query: query, headers: headers))
        while true {
            try eachPage((page.object["value"]?.arrayValue ?? []).compactMap(\.objectValue))
            guard let next = page.object["@odata.nextLink"]?.stringValue else { return }
            // The bearer token goes only where the first page came from.
            guard Self.origin(of: next) == Self.origin(of: baseURL) else {
                throw GraphError(
                    kind: .malformedResponse, status: page.status, code: "UnexpectedNextLink",
                    message: "@odata.nextLink points outside \(baseURL)", method: "GET", path: path)
            }
            let request = GraphRequest("GET", path, query: query, headers: headers)
            page = try await send(request, url: next, cost: RequestCost.estimate(request))
        }
    }

    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme.lowercased())://\(host.lowercased()):\(components.port ?? (scheme.lowercased() == "http" ? 80 : 443))"
    }

    // MARK: - Sending

    func send(_ request: GraphRequest, url: String, cost: RequestCost, innerPaths: [String]? = nil) async throws -> GraphResponse {
        var headers = request.headers
        headers["Accept"] = "application/json"
        if let throttlePriority { headers["x-ms-throttle-priority"] = throttlePriority }
        var body: Data?
        let values = transport.carriesJSONValues
        if let json = request.body {
            headers["Content-Type"] = "application/json"
            if !values { body = try? JSONCoding.encode(json) }
        }
        var throttled = 0
        var transient = 0
        var replication = 0
        var refreshedToken = false
        let paths = innerPaths ?? [request.path]
        // Only a request to a paced endpoint holds a turn there; the others skip the governor on the way out.
        let pacedGovernor = governor.flatMap { $0.isPaced(paths) ? $0 : nil }
        while true {
            var appIndex = 0
            if let governor {
                do {
                    appIndex = try await WaitReason.$current.withValue(.throttling) { try await governor.admit(cost, paths: paths) }
                } catch {
                    throw GraphError(
                        kind: .notSent, status: 0, code: "Cancelled", message: "stopped while waiting for quota", method: request.method,
                        path: request.path)
                }
            } else if apps.count > 1 {
                appIndex = rotation.next() % apps.count
            }
            let app = apps[apps.indices.contains(appIndex) ? appIndex : 0]
            let tokens = app.tokens
            let transport = app.transport
            if request.isWrite || innerPaths != nil { GraphApp.Used.current?.record(app.name) }
            if let tokens {
                do {
                    headers["Authorization"] = "Bearer " + (try await tokens.accessToken())
                } catch let error as GraphError {
                    await pacedGovernor?.release(paths: paths)
                    throw error
                } catch {
                    await pacedGovernor?.release(paths: paths)
                    throw GraphError(
                        kind: .notSent, status: 0, code: "TokenUnavailable", message: "\(error)", method: request.method, path: request.path
                    )
                }
            }
            var httpRequest = HTTPRequest(method: request.method, url: url, headers: headers, body: body, timeout: requestTimeout)
            if values { httpRequest.json = request.body }
            let started = Date()
            let response: HTTPResponse
            do {
                response = try await transport.send(httpRequest)
            } catch let failure as TransportFailure {
                await pacedGovernor?.release(paths: paths)
                let failedAt = await clock.now()
                log(httpRequest, request, nil, failure: failure, started: started)
                transient += 1
                switch failure {
                case .noResponse(let reason) where request.method != "GET":
                    throw GraphError(
                        kind: .ambiguous, status: 0, code: "NoResponse", message: reason, method: request.method, path: request.path)
                case .noResponse(let reason), .notSent(let reason):
                    if transient >= retry.maxTransientAttempts {
                        throw GraphError(
                            kind: .notSent, status: 0, code: "TransportFailure", message: reason, method: request.method, path: request.path
                        )
                    }
                    try await pause(retry.backoff(attempt: transient), request, since: failedAt)
                    continue
                }
            } catch {
                await pacedGovernor?.release(paths: paths)
                log(httpRequest, request, nil, failure: error, started: started)
                throw GraphError(
                    kind: .notSent, status: 0, code: "TransportFailure", message: "\(error)", method: request.method, path: request.path)
            }
            log(httpRequest, request, response, failure: nil, started: started)
            await governor?.observe(
                status: response.status, headers: response.headers, estimated: cost, app: appIndex, path: paths.count == 1 ? paths[0] : "")
            await pacedGovernor?.release(paths: paths)

            if (200..<300).contains(response.status) {
                let json = response.json ?? (response.body.isEmpty ? nil : try? JSONCoding.decode(response.body))
                if !response.body.isEmpty, json == nil {
                    throw GraphError(
                        kind: .malformedResponse, status: response.status, code: "MalformedResponse",
                        message: "response body is not JSON", requestID: response.headers["request-id"],
                        method: request.method, path: request.path)
                }
                return GraphResponse(status: response.status, headers: response.headers, body: json)
            }

            // Waits count from the answer: requests answered together wait together (on a simulated clock too, where
            // other requests' waits may have moved the clock since the fake tenant stamped its answer).
            let answeredAt = if let stamped = response.answeredAt { stamped } else { await clock.now() }
            var error = GraphError.from(response: response, method: request.method, path: request.path)
            error.answeredAt = answeredAt
            if request.awaitsReplication, error.isNotFound, replication + 1 < retry.maxReplicationAttempts {
                // Eventual consistency: the object this run created is not visible everywhere yet.
                replication += 1
                try await pause(retry.backoff(attempt: replication), request, since: answeredAt)
                continue
            }
            switch response.status {
            case 429:
                throttled += 1
                guard throttled < retry.maxThrottledAttempts else { throw error }
                // Retry-After counts from the response: requests throttled together wake together.
                // The governor (when there is one) has already paused every request for Retry-After.
                if governor == nil {
                    let wait = error.retryAfter ?? retry.backoff(attempt: throttled)
                    do {
                        try await WaitReason.$current.withValue(.throttling) {
                            try await ThrottleScope.$current.withValue(response.headers["x-ms-throttle-scope"]) {
                                // Counted from when this request reads the clock, not from the answer: on a simulated clock
                                // that staggers the retries of requests throttled together; counted from the answer they all
                                // retried into the same sliding window (50,000 users: 13,500 answers 429 instead of 8,500, and
                                // throttling 7 % over the arithmetic lower bound instead of 4 %).
                                try await clock.sleep(until: (await clock.now()).addingTimeInterval(wait))
                            }
                        }
                    } catch {
                        throw GraphError(
                            kind: .notSent, status: 0, code: "Cancelled", message: "stopped while throttled", method: request.method,
                            path: request.path)
                    }
                }
            case 401 where tokens != nil && !refreshedToken:
                refreshedToken = true
                await tokens?.invalidate()
            case 500, 502, 503, 504:
                if request.method != "GET" {
                    var ambiguous = error
                    ambiguous.kind = .ambiguous
                    throw ambiguous
                }
                transient += 1
                guard transient < retry.maxTransientAttempts else { throw error }
                try await pause(error.retryAfter ?? retry.backoff(attempt: transient), request, since: answeredAt)
            default:
                throw error
            }
        }
    }

    private func log(_ http: HTTPRequest, _ request: GraphRequest, _ response: HTTPResponse?, failure: (any Error)?, started: Date) {
        guard let logger else { return }
        let milliseconds = Int(Date().timeIntervalSince(started) * 1000)
        let path = Redaction.redact(Self.encode(path: request.path, query: request.query))
        var metadata: Logger.Metadata = ["duration-ms": "\(milliseconds)"]
        if let response {
            metadata["request-id"] = "\(response.headers["request-id"] ?? response.headers["client-request-id"] ?? "-")"
            logger.debug("\(request.method) \(path) \(response.status)", metadata: metadata)
        } else {
            metadata["error"] = "\(Redaction.redact("\(failure.map { "\($0)" } ?? "unknown")"))"
            logger.debug("\(request.method) \(path) failed", metadata: metadata)
        }
        if logger.logLevel <= .trace {
            logger.trace(
                "request",
                metadata: [
                    "headers": "\(Redaction.redact(headers: http.headers).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })",
                    "body": "\(Redaction.redact(body: http.body))",
                ])
            if let response {
                logger.trace(
                    "response",
                    metadata: [
                        "headers":
                            "\(Redaction.redact(headers: response.headers).sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" })",
                        "body": "\(Redaction.redact(body: response.body))",
                    ])
            }
        }
    }

    /// Waits until `seconds` after `since` (when the answer or failure that asks for the wait arrived): concurrent
    /// requests that failed together wait together, rather than one after another on a simulated clock.
    func pause(_ seconds: Double, _ request: GraphRequest, since: Date) async throws {
        do {
            try await WaitReason.$current.withValue(WaitReason.current ?? .retry) {
                try await clock.sleep(until: since.addingTimeInterval(seconds))
            }
        } catch {
            throw GraphError(
                kind: .notSent, status: 0, code: "Cancelled", message: "stopped while waiting to retry", method: request.method,
                path: request.path)
        }
    }

    // MARK: - URLs

    /// ASCII bytes a path keeps as they are (RFC 3986 unreserved, sub-delims, `:`, `@` and `/`).
    private static let pathAllowed = allowedBytes("-._~!$&'()*+,;=:@/")
    /// ASCII bytes a query name or value keeps (`&`, `=`, `+` and `#` are escaped, so they cannot split or end it).
    private static let queryAllowed = allowedBytes("-._~!$'()*,;:@/?")

    private static func allowedBytes(_ punctuation: String) -> [Bool] {
        var allowed = [Bool](repeating: false, count: 128)
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") { allowed[Int(byte)] = true }
        for byte in UInt8(ascii: "A")...UInt8(ascii: "Z") { allowed[Int(byte)] = true }
        for byte in UInt8(ascii: "0")...UInt8(ascii: "9") { allowed[Int(byte)] = true }
        for byte in punctuation.utf8 { allowed[Int(byte)] = true }
        return allowed
    }

    /// `text` with every byte of its UTF-8 outside `allowed` written as `%XX` (non-ASCII always is).
    static func percentEncoded(_ text: String, _ allowed: [Bool]) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 >= 128 || !allowed[Int($0)] }) else { return text }
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            if byte < 128, allowed[Int(byte)] {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Percent-encodes a Graph path and query (spaces, `#`, `+`, `&` and non-ASCII are escaped).
    package static func encode(path: String, query: [QueryItem]) -> String {
        var url = percentEncoded(path, pathAllowed)
        if !query.isEmpty {
            url +=
                "?"
                + query.map { "\(percentEncoded($0.name, queryAllowed))=\(percentEncoded($0.value, queryAllowed))" }.joined(separator: "&")
        }
        return url
    }

    /// Quotes a string as an OData literal: `'O''Brien'`.
    package static func literal(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }
}

/// One application registration a ``GraphClient`` sends with: its own transport (the fake tenant's app in a tabletop)
/// and its own tokens (its own client id and credential in a rebuild).
package struct GraphApp: Sendable {
    /// What the checkpoint records as the app that did an operation: the client id (a rebuild) or the fake's app name.
    package var name: String
    package var transport: any HTTPTransport
    package var tokens: (any AccessTokenProvider)?

    package init(name: String, transport: any HTTPTransport, tokens: (any AccessTokenProvider)? = nil) {
        self.name = name
        self.transport = transport
        self.tokens = tokens
    }

    /// Which app registration sent the writes of the current task (one operation): bind with
    /// `GraphApp.Used.$current.withValue(GraphApp.Used()) { … }`, read ``name`` afterwards.
    package final class Used: Sendable {
        private let last = Mutex<String?>(nil)
        package init() {}
        /// The app that sent the latest write (or `$batch`), `nil` when none was sent.
        package var name: String? { last.withLock { $0 } }
        func record(_ name: String) { last.withLock { $0 = name } }
        @TaskLocal package static var current: Used?
    }
}

/// Round robin over app registrations when no governor chooses.
private final class AppRotation: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock { value in
            value &+= 1
            return value
        }
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import Logging
import NIOCore
import Synchronization

/// The fake tenant behind a real HTTP server on loopback, in real time: Microsoft Graph under `/v1.0`,
/// the OAuth2 client-credentials token endpoint at `/{tenant}/oauth2/v2.0/token`, and a small operator
/// API under `/_lifeboat/`.
///
/// Every `/v1.0` request needs `Authorization: Bearer <token>` from this server's own token endpoint; it is
/// then handed, with its raw percent-encoded path and query, headers and body, to ``FakeTenant/handle(_:)``.
package final class FakeTenantServer: Sendable {
    /// Where and how the server listens.
    package struct Configuration: Sendable {
        /// Loopback only: the fake tenant is for drills on this machine.
        package var host: String
        /// The port; 0 asks the system for a free one (read ``FakeTenantServer/port`` once started).
        package var port: Int
        /// Largest request body accepted, in bytes.
        package var maxBodySize: Int

        package init(host: String = "127.0.0.1", port: Int = 0, maxBodySize: Int = 16 << 20) {
            self.host = host
            self.port = port
            self.maxBodySize = maxBodySize
        }
    }

    package let tenant: FakeTenant
    package let authority: FakeTokenAuthority
    /// The first registered app: its requests count as the fake's default app (`lifeboat`), others under their client id.
    private let firstClientID: String?
    package let configuration: Configuration
    private let state = Mutex<RunState>(RunState())

    private struct RunState: Sendable {
        var port: Int?
        var task: Task<Void, any Error>?
    }

    /// Where `serve` wrote ``operatorToken`` (a 0600 file): `GET health` names it, so the owner's CLI finds the token.
    package let operatorTokenFile: String?

    /// The bearer token of the operator API (`/_lifeboat/…` except `GET health`): generated per server unless given.
    package let operatorToken: String

    /// A random operator token: 32 bytes from the system generator, hex.
    package static func generateOperatorToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// A server for `tenant` whose token endpoint knows `applications`; `operatorToken` guards the operator API
    /// (a new random one when nil); `now` is the token endpoint's clock
    /// (tests inject one to expire tokens without waiting).
    package init(
        tenant: FakeTenant, applications: [AppRegistration], tokenLifetime: Int = 3599,
        configuration: Configuration = Configuration(), operatorToken: String? = nil, operatorTokenFile: String? = nil,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.tenant = tenant
        self.configuration = configuration
        self.operatorToken = operatorToken ?? Self.generateOperatorToken()
        self.operatorTokenFile = operatorTokenFile
        firstClientID = applications.first?.clientID.lowercased()
        authority = FakeTokenAuthority(
            tenantID: tenant.tenantID, initialDomain: tenant.initialDomain, applications: applications,
            tokenLifetime: tokenLifetime, now: now)
    }

    /// The bound port, once the server listens.
    package var port: Int? { state.withLock { $0.port } }

    /// `http://127.0.0.1:PORT`, once the server listens.
    package var baseURL: String? { port.map { "http://\(configuration.host):\($0)" } }

    /// Graph's version root on this server: `http://127.0.0.1:PORT/v1.0`.
    package var graphURL: String? { baseURL.map { "\($0)/v1.0" } }

    /// The token endpoint for this tenant: `http://127.0.0.1:PORT/{tenantId}/oauth2/v2.0/token`.
    package var tokenEndpoint: String? { baseURL.map { "\($0)/\(tenant.tenantID)/oauth2/v2.0/token" } }

    /// Starts listening in the background and returns the bound port; ``stop()`` ends it.
    package func start() async throws -> Int {
        let (ready, readyContinuation) = AsyncStream<Int>.makeStream()
        // stop() cancels the task, which Hummingbird logs as an error on every open connection: keep that quiet.
        let application = makeApplication(logLevel: .critical) { port in
            readyContinuation.yield(port)
            readyContinuation.finish()
        }
        let task = Task {
            defer { readyContinuation.finish() }
            try await application.run()
        }
        state.withLock { $0.task = task }
        for await port in ready {
            state.withLock { $0.port = port }
            return port
        }
        // The server stopped before it listened: report why.
        _ = try await task.value
        throw FakeServerError("the server stopped before it listened on \(configuration.host):\(configuration.port)")
    }

    /// Stops a server started with ``start()`` and waits until it has closed its socket.
    package func stop() async {
        let task = state.withLock { state -> Task<Void, any Error>? in
            defer { state.task = nil }
            return state.task
        }
        task?.cancel()
        _ = try? await task?.value
    }

    /// Runs in the foreground until SIGINT or SIGTERM (for `lifeboat fake-tenant serve`).
    ///
    /// - Parameter onListening: called once with the bound port.
    package func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let application = makeApplication(logLevel: .warning) { [self] port in
            self.state.withLock { $0.port = port }
            onListening(port)
        }
        try await application.runService()
    }

    private func makeApplication(logLevel: Logger.Level, onListening: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        var logger = Logger(label: "lifeboat.fake-tenant-server")
        logger.logLevel = logLevel
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            try await self.respond(to: request)
        }
        return Application(
            responder: responder,
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "Lifeboat-FakeTenant"),
            onServerRunning: { channel in
                onListening(channel.localAddress?.port ?? 0)
            },
            logger: logger)
    }

    // MARK: - Routing

    /// The request target as sent (percent-encoded path and query).
    private func respond(to request: Request) async throws -> Response {
        var request = request
        let target = request.uri.string
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? "/"
        let body = try await request.collectBody(upTo: configuration.maxBodySize)
        let bytes = Data(body.readableBytesView)
        if path == "/v1.0" || path.hasPrefix("/v1.0/") {
            return await graph(request, target: target, body: bytes)
        }
        if path.hasPrefix("/_lifeboat/") {
            return await operatorAPI(request, path: path, body: bytes)
        }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        if segments.count == 4, segments[1] == "oauth2", segments[2] == "v2.0", segments[3] == "token" {
            return await token(request, tenant: String(segments[0]).removingPercentEncoding ?? String(segments[0]), path: path, body: bytes)
        }
        return json(
            404,
            [
                "error": [
                    "code": "NotFound",
                    "message": .string(
                        "Nothing is served at \(path). Graph is under /v1.0, tokens at /{tenant}/oauth2/v2.0/token, the operator API under /_lifeboat/."
                    ),
                ]
            ])
    }

    // MARK: - Graph

    private func graph(_ request: Request, target: String, body: Data) async -> Response {
        if let problem = await authority.check(authorization: request.headers[.authorization]) {
            let requestID = UUID().uuidString.lowercased()
            var response = json(
                401,
                [
                    "error": [
                        "code": "InvalidAuthenticationToken", "message": .string(problem.message),
                        "innerError": [
                            "date": .string(ISO8601DateFormatter().string(from: Date())), "request-id": .string(requestID),
                            "client-request-id": .string(requestID),
                        ],
                    ]
                ])
            response.headers[.wwwAuthenticate] =
                #"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000""#
            response.headers[HTTPField.Name("request-id")!] = requestID
            return response
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            guard name != "authorization", name != "host", name != "content-length", name != "connection" else { continue }
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let forwarded = LifeboatGraph.HTTPRequest(
            method: request.method.rawValue, url: "http://\(configuration.host):\(port ?? configuration.port)\(target)", headers: headers,
            body: body.isEmpty ? nil : body)
        let roles = await authority.roles(authorization: request.headers[.authorization]) ?? []
        // Graph's quotas are per app and tenant (concepts/throttling-limits.md): each registered app has its own (the first
        // keeps the fake's default name).
        let client = await authority.clientID(authorization: request.headers[.authorization])
        let app = client.map { $0.lowercased() == firstClientID ? "lifeboat" : $0.lowercased() } ?? "lifeboat"
        let answer = await tenant.handle(forwarded, app: app, roles: roles)
        var fields = HTTPFields()
        for (name, value) in answer.headers.sorted(by: { $0.key < $1.key }) {
            guard let fieldName = HTTPField.Name(name), name != "content-length", name != "transfer-encoding", name != "connection" else {
                continue
            }
            fields[fieldName] = value
        }
        return Response(
            status: .init(code: answer.status), headers: fields,
            body: answer.body.isEmpty ? ResponseBody() : ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    // MARK: - Token endpoint

    private func token(_ request: Request, tenant: String, path: String, body: Data) async -> Response {
        guard request.method == .post else {
            return tokenJSON(
                405,
                TokenEndpointError(
                    405, "invalid_request", 900_561,
                    "The endpoint only accepts POST requests. Received a \(request.method.rawValue) request."
                ).body(now: Date()))
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            return tokenJSON(
                400,
                TokenEndpointError(
                    400, "invalid_request", 900_144,
                    "The request body must be application/x-www-form-urlencoded and contain the following parameter: 'grant_type'."
                ).body(now: Date()))
        }
        let form = FormBody.parse(String(decoding: body, as: UTF8.self))
        // The audience a client assertion must name: the URL the client posted to.
        let host = request.head.authority ?? "\(configuration.host):\(port ?? configuration.port)"
        let answer = await authority.token(tenant: tenant, form: form, endpoint: "http://\(host)\(path)")
        return tokenJSON(answer.status, answer.body)
    }

    private func tokenJSON(_ status: Int, _ body: JSONObject) -> Response {
        var response = json(status, .object(body))
        response.headers[.cacheControl] = "no-store, no-cache"
        response.headers[HTTPField.Name("pragma")!] = "no-cache"
        return response
    }

    // MARK: - Operator API

    /// `/_lifeboat/…`: for operators and tests, not part of Graph. Loopback only. Every endpoint but `GET health` needs
    /// `Authorization: Bearer <operatorToken>`, and every `POST` a JSON body (`Content-Type: application/json`): a web
    /// page the operator visits can send a `text/plain` form to 127.0.0.1, but neither the token nor a JSON content type
    /// without a CORS preflight this server never grants.
    ///
    /// - `GET health`: tenant id, initial domain, writes, live tokens.
    /// - `GET census`: objects per collection, live and in the recycle bin.
    /// - `POST delete` `{"collection": "users", "filter": "OData", "purge": false, "deletedDaysAgo": 0}`: break the tenant.
    /// - `POST dns` `{"domain": "contoso.com"}`: publish a domain's verification TXT record.
    /// - `POST domains/held` `{"domain": "contoso.com", "held": true}`: another tenant holds the domain (its verify fails for good).
    private func operatorAPI(_ request: Request, path: String, body: Data) async -> Response {
        if let refusal = operatorRefusal(request, path: path, body: body) { return refusal }
        let input = (try? JSONCoding.decode(body))?.objectValue ?? [:]
        switch (request.method, path) {
        case (.get, "/_lifeboat/census"):
            let rows = await tenant.census()
            return json(
                200,
                [
                    "collections": .object(
                        JSONObject(
                            uniqueKeysWithValues: rows.map {
                                (
                                    $0.collection,
                                    JSONValue.object(["live": .number(Double($0.live)), "deleted": .number(Double($0.deleted))])
                                )
                            }))
                ])
        case (.post, "/_lifeboat/delete"):
            guard let collection = input["collection"]?.stringValue else {
                return json(
                    400,
                    [
                        "error": [
                            "code": "BadRequest",
                            "message":
                                "the body needs \"collection\" (users, groups, …) and may have \"filter\", \"purge\", \"deletedDaysAgo\"",
                        ]
                    ])
            }
            do {
                let deleted = try await tenant.delete(
                    collection: collection, where: input["filter"]?.stringValue,
                    purge: input["purge"]?.boolValue ?? false, deletedDaysAgo: input["deletedDaysAgo"]?.numberValue ?? 0)
                return json(
                    200,
                    [
                        "deleted": .array(
                            deleted.map {
                                ["id": .string($0.id), "displayName": .string($0.displayName), "recoverable": .bool($0.recoverable)]
                            })
                    ])
            } catch {
                return json(400, ["error": ["code": "BadRequest", "message": .string("\(error)")]])
            }
        case (.post, "/_lifeboat/dns"):
            guard let domain = input["domain"]?.stringValue, !domain.isEmpty else {
                return json(400, ["error": ["code": "BadRequest", "message": "the body needs \"domain\""]])
            }
            do {
                try await tenant.publishDNSRecord(for: domain)
                return json(200, ["domain": .string(domain.lowercased()), "published": true])
            } catch {
                return json(500, ["error": ["code": "InternalError", "message": .string("\(error)")]])
            }
        case (.post, "/_lifeboat/domains/held"):
            guard let domain = input["domain"]?.stringValue, !domain.isEmpty else {
                return json(
                    400, ["error": ["code": "BadRequest", "message": "the body needs \"domain\" and may have \"held\" (true by default)"]])
            }
            let held = input["held"]?.boolValue ?? true
            do {
                try await tenant.holdDomain(domain, held: held)
                return json(200, ["domain": .string(domain.lowercased()), "held": .bool(held)])
            } catch {
                return json(500, ["error": ["code": "InternalError", "message": .string("\(error)")]])
            }
        case (.get, "/_lifeboat/health"):
            let throttling = await tenant.throttlingCounts
            return json(
                200,
                [
                    "status": "ok", "tenantId": .string(tenant.tenantID), "initialDomain": .string(tenant.initialDomain),
                    "writes": .number(Double(await tenant.writeCount)), "liveTokens": .number(Double(await authority.liveTokenCount)),
                    "throttled": .number(Double(throttling.throttled)), "admitted": .number(Double(throttling.admitted)),
                    "operatorTokenFile": operatorTokenFile.map(JSONValue.string) ?? .null,
                ])
        default:
            return json(
                404, ["error": ["code": "NotFound", "message": .string("Unknown operator endpoint \(request.method.rawValue) \(path).")]])
        }
    }

    /// The answer to an operator request without the token, or a `POST` without a JSON object body; nil when it may go on.
    private func operatorRefusal(_ request: Request, path: String, body: Data) -> Response? {
        if request.method == .get, path == "/_lifeboat/health" { return nil }
        let presented = request.headers[.authorization].flatMap { value -> String? in
            value.lowercased().hasPrefix("bearer ") ? String(value.dropFirst(7)).trimmingCharacters(in: .whitespaces) : nil
        }
        // Compared in constant time: the token never leaks through timing.
        guard let presented, presented.utf8.count == operatorToken.utf8.count,
            zip(presented.utf8, operatorToken.utf8).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0
        else {
            return json(
                401,
                [
                    "error": [
                        "code": "Unauthorized",
                        "message":
                            "the operator API needs the token `lifeboat fake-tenant serve` printed and wrote to its operator-token file: Authorization: Bearer <token>",
                    ]
                ])
        }
        if request.method == .post {
            let type = request.headers[.contentType]?.lowercased() ?? ""
            guard type.hasPrefix("application/json") else {
                return json(
                    415,
                    [
                        "error": [
                            "code": "UnsupportedMediaType", "message": "the operator API takes a JSON body: Content-Type: application/json",
                        ]
                    ])
            }
            guard (try? JSONCoding.decode(body))?.objectValue != nil else {
                return json(400, ["error": ["code": "BadRequest", "message": "the body must be a JSON object"]])
            }
        }
        return nil
    }

    private func json(_ status: Int, _ value: JSONValue) -> Response {
        let data = (try? JSONCoding.encode(value)) ?? Data()
        return Response(
            status: .init(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Why the server could not start.
package struct FakeServerError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// `application/x-www-form-urlencoded` bodies.
enum FormBody {
    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }
}

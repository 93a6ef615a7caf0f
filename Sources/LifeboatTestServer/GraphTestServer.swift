import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import LifeboatJSON
import Logging
import Synchronization
import X509
import _CryptoExtras

/// A test certificate credential, generated at test time (no private key is ever committed).
package struct TestCertificate: Sendable {
    package let privateKeyPEM: String
    package let certificatePEM: String
    package let publicKey: _RSA.Signing.PublicKey
    /// base64url SHA-256 of the DER certificate: the `x5t#S256` the server expects.
    package let thumbprintSHA256: String

    /// A fresh RSA-2048 key and a self-signed certificate valid for a day.
    package static func generate(commonName: String = "lifeboat-test") throws -> TestCertificate {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: Certificate.PublicKey(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86400),
            issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: Certificate.Extensions(), issuerPrivateKey: Certificate.PrivateKey(key))
        let pem = try certificate.serializeAsPEM()
        return TestCertificate(
            privateKeyPEM: key.pemRepresentation, certificatePEM: pem.pemString, publicKey: key.publicKey,
            thumbprintSHA256: base64URL(Data(SHA256.hash(data: Data(pem.derBytes)))))
    }
}

func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func base64URLDecode(_ text: Substring) -> Data? {
    var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while base64.count % 4 != 0 { base64 += "=" }
    return Data(base64Encoded: base64)
}

/// A Graph- and sign-in-like HTTP server on 127.0.0.1 (port 0) for the live-path tests.
///
/// - `POST /{tenant}/oauth2/v2.0/token`: client credentials with a `client_secret`, or a
///   `client_assertion` whose RS256 signature, `x5t#S256`, audience, issuer and lifetime are checked.
/// - Under `/v1.0` (bearer token required when ``Settings/requireToken``): `users` (paged, with an
///   empty page), `users/{id}`, `echo` (any method), `compressed` (gzip), `slow` (GET or POST, 3 s),
///   `throttled/{key}` (429 with Retry-After 1, once per key), `flaky/{key}` (503, once per key),
///   `quota` (a sliding-window write quota answering 429), `connection` (the client's port) and
///   `$batch` (at most 20, answered in reverse order; inner urls containing `throttle-once` get 429 once).
package final class GraphTestServer: Sendable {
    package struct Settings: Sendable {
        package var tenant = "contoso-dr.onmicrosoft.com"
        package var clientID = "11111111-2222-3333-4444-555555555555"
        package var clientSecret: String?
        package var certificate: TestCertificate?
        /// `expires_in` of the issued tokens.
        package var tokenLifetime = 3600
        package var requireToken = false
        /// The `quota` route's limit: requests per window (seconds).
        package var quotaLimit = 60
        package var quotaWindow = 2.0
        package init() {}
    }

    /// What the server has seen.
    package struct Counters: Sendable {
        package var tokenRequests = 0
        package var tokensIssued: [String] = []
        package var rejectedTokenRequests: [String] = []
        package var graphRequests = 0
        package var unauthorized = 0
        package var batchSizes: [Int] = []
        package var quotaAccepted = 0
        package var quotaThrottled = 0
        package var clientPorts: Set<Int> = []
        package var acceptEncodings: [String] = []
    }

    final class State: Sendable {
        let settings: Settings
        struct Mutable {
            var counters = Counters()
            var authority = ""
            var tokens: [String: Date] = [:]
            var seenJTIs: Set<String> = []
            var onceKeys: Set<String> = []
            var quotaLog: [Date] = []
        }
        let mutable = Mutex(Mutable())
        /// One element each time the `slow` route starts answering.
        let slowStarted = AsyncStream.makeStream(of: Void.self)
        init(_ settings: Settings) { self.settings = settings }
        func with<T>(_ body: (inout Mutable) -> T) -> T { mutable.withLock { body(&$0) } }
        /// `true` the first time `key` is seen.
        func first(_ key: String) -> Bool { with { $0.onceKeys.insert(key).inserted } }
    }

    /// The server's root, e.g. `http://127.0.0.1:53211`: both the authority and the Graph root.
    package let rootURL: String
    package let port: Int
    private let state: State
    private let task: Task<Void, any Error>

    private init(rootURL: String, port: Int, state: State, task: Task<Void, any Error>) {
        self.rootURL = rootURL
        self.port = port
        self.state = state
        self.task = task
    }

    package var settings: Settings { state.settings }
    package var counters: Counters { state.with { $0.counters } }
    /// Yields when a request to the `slow` route has arrived (before its 3 s answer): a test cancels a transfer that is
    /// known to be in flight instead of guessing with a delay. One consumer.
    package var slowRequestsStarted: AsyncStream<Void> { state.slowStarted.stream }
    /// The token endpoint the assertion's `aud` must name.
    package var tokenURL: String { "\(rootURL)/\(settings.tenant)/oauth2/v2.0/token" }

    /// Makes every issued token invalid, as if it had been revoked.
    package func revokeTokens() { state.with { $0.tokens = [:] } }

    /// Starts a server on 127.0.0.1 with a port the system picks.
    package static func start(_ settings: Settings = Settings()) async throws -> GraphTestServer {
        let state = State(settings)
        let router = Router(context: ServerContext.self)
        addRoutes(to: router, state: state)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "lifeboat.test-server")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        let task = Task { try await app.run() }
        var port = 0
        for await value in ports { port = value }
        let root = "http://127.0.0.1:\(port)"
        state.with { $0.authority = root }
        return GraphTestServer(rootURL: root, port: port, state: state, task: task)
    }

    /// Stops the server.
    package func stop() async {
        task.cancel()
        _ = await task.result
    }

    // MARK: - Routes

    struct ServerContext: RequestContext {
        var coreContext: CoreRequestContextStorage
        let clientPort: Int?
        init(source: ApplicationRequestContextSource) {
            coreContext = .init(source: source)
            clientPort = source.channel.remoteAddress?.port
        }
    }

    static func json(_ status: Int, _ value: JSONValue, headers: [String: String] = [:]) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[HTTPField.Name("request-id")!] = UUID().uuidString.lowercased()
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        let data = (try? JSONCoding.encode(value)) ?? Data()
        return Response(status: .init(code: status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func graphError(_ status: Int, _ code: String, _ message: String, headers: [String: String] = [:]) -> Response {
        json(
            status,
            [
                "error": [
                    "code": .string(code), "message": .string(message),
                    "innerError": ["request-id": .string(UUID().uuidString.lowercased()), "date": "2026-11-20T00:00:00"],
                ]
            ],
            headers: headers)
    }

    static func body(_ request: Request) async throws -> Data {
        let buffer = try await request.body.collect(upTo: 4 << 20)
        return Data(buffer.readableBytesView)
    }

    static func form(_ data: Data) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: data, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text) }
            fields[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return fields
    }

    static func addRoutes(to router: Router<ServerContext>, state: State) {
        let settings = state.settings

        router.post("/:tenant/oauth2/v2.0/token") { request, context -> Response in
            let fields = form(try await body(request))
            state.with { $0.counters.tokenRequests += 1 }
            func reject(_ code: String, _ description: String) -> Response {
                state.with { $0.counters.rejectedTokenRequests.append(description) }
                return json(
                    401,
                    [
                        "error": .string(code), "error_description": .string(description),
                        "correlation_id": .string(UUID().uuidString.lowercased()),
                    ])
            }
            guard context.parameters.get("tenant") == settings.tenant else {
                return reject("invalid_request", "AADSTS90002: Tenant not found.")
            }
            guard fields["grant_type"] == "client_credentials" else { return reject("unsupported_grant_type", "grant_type") }
            guard fields["client_id"] == settings.clientID else {
                return reject("unauthorized_client", "AADSTS700016: Application not found.")
            }
            guard fields["scope"] == state.with({ $0.authority }) + "/.default" else {
                return reject("invalid_scope", "AADSTS70011: scope \(fields["scope"] ?? "")")
            }
            if let secret = fields["client_secret"] {
                guard secret == settings.clientSecret else {
                    return reject("invalid_client", "AADSTS7000215: Invalid client secret provided.")
                }
            } else if let assertion = fields["client_assertion"] {
                guard fields["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else {
                    return reject("invalid_request", "client_assertion_type")
                }
                if let problem = verify(assertion: assertion, state: state) { return reject("invalid_client", problem) }
            } else {
                return reject("invalid_request", "AADSTS7000218: client_assertion or client_secret required")
            }
            let token = "tok-" + UUID().uuidString.lowercased()
            state.with {
                $0.tokens[token] = Date().addingTimeInterval(Double(settings.tokenLifetime))
                $0.counters.tokensIssued.append(token)
            }
            return json(
                200,
                [
                    "token_type": "Bearer", "expires_in": .number(Double(settings.tokenLifetime)),
                    "ext_expires_in": .number(Double(settings.tokenLifetime)), "access_token": .string(token),
                ])
        }

        let graph = router.group("v1.0").add(middleware: GraphAuthentication(state: state))

        graph.get("users") { request, _ -> Response in
            let pages: [[JSONValue]] = [[["id": "u1"], ["id": "u2"]], [], [["id": "u3"], ["id": "u4"]], [["id": "u5"]]]
            let page = request.uri.queryParameters.get("$skiptoken").flatMap { Int($0) } ?? 0
            var body: JSONObject = ["value": .array(pages[min(page, pages.count - 1)])]
            if page + 1 < pages.count {
                body["@odata.nextLink"] = .string("\(state.with { $0.authority })/v1.0/users?$skiptoken=\(page + 1)")
            }
            return json(200, .object(body))
        }
        graph.get("users/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            return json(200, ["id": .string(id), "displayName": .string("User \(id)")])
        }
        for method in [HTTPRequest.Method.post, .patch, .put, .delete, .get] {
            graph.on("echo", method: method) { request, _ -> Response in
                let data = try await body(request)
                let parsed =
                    data.isEmpty ? JSONValue.null : ((try? JSONCoding.decode(data)) ?? .string(String(decoding: data, as: UTF8.self)))
                return json(
                    200,
                    [
                        "method": .string(request.method.rawValue),
                        "contentType": .string(request.headers[.contentType] ?? ""),
                        "throttlePriority": .string(request.headers[HTTPField.Name("x-ms-throttle-priority")!] ?? ""),
                        "body": parsed,
                    ])
            }
        }
        graph.get("compressed") { request, _ -> Response in
            state.with { $0.counters.acceptEncodings.append(request.headers[.acceptEncoding] ?? "") }
            var fields = HTTPFields()
            fields[.contentType] = "application/json"
            fields[.contentEncoding] = "gzip"
            let bytes = Data(base64Encoded: compressedUsers)!
            return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        for method in [HTTPRequest.Method.get, .post] {
            graph.on("slow", method: method) { _, _ -> Response in
                state.slowStarted.continuation.yield()
                try await Task.sleep(for: .seconds(3))
                return json(200, ["slow": true])
            }
        }
        graph.get("throttled/:key") { _, context -> Response in
            if state.first("throttled/" + (context.parameters.get("key") ?? "")) {
                return graphError(429, "TooManyRequests", "Too many requests.", headers: ["Retry-After": "1"])
            }
            return json(200, ["ok": true])
        }
        graph.get("flaky/:key") { _, context -> Response in
            if state.first("flaky/" + (context.parameters.get("key") ?? "")) {
                return graphError(503, "ServiceUnavailable", "Try again.")
            }
            return json(200, ["ok": true])
        }
        graph.get("connection") { _, context -> Response in
            json(200, ["port": .number(Double(context.clientPort ?? 0))])
        }
        graph.post("quota") { _, _ -> Response in
            let now = Date()
            let limit = settings.quotaLimit, window = settings.quotaWindow
            let answer: (accepted: Bool, usage: Double, retryAfter: Int) = state.with { s in
                s.quotaLog.removeAll { now.timeIntervalSince($0) >= window }
                guard s.quotaLog.count < limit else {
                    s.counters.quotaThrottled += 1
                    let wait = window - now.timeIntervalSince(s.quotaLog[0])
                    return (false, 1, max(1, Int(wait.rounded(.up))))
                }
                s.quotaLog.append(now)
                s.counters.quotaAccepted += 1
                return (true, Double(s.quotaLog.count) / Double(limit), 0)
            }
            guard answer.accepted else {
                return graphError(429, "TooManyRequests", "Write quota exceeded.", headers: ["Retry-After": "\(answer.retryAfter)"])
            }
            var headers = ["x-ms-resource-unit": "1"]
            if answer.usage > 0.8 { headers["x-ms-throttle-limit-percentage"] = String(format: "%.2f", answer.usage) }
            return json(201, ["id": .string(UUID().uuidString.lowercased())], headers: headers)
        }
        graph.post("$batch") { request, _ -> Response in
            guard let envelope = try? JSONCoding.decode(try await body(request)), let requests = envelope["requests"]?.arrayValue else {
                return graphError(400, "BadRequest", "Invalid batch payload.")
            }
            guard requests.count <= 20 else {
                return graphError(400, "BadRequest", "Too many requests in the batch (\(requests.count)); the limit is 20.")
            }
            let ids = requests.compactMap { $0["id"]?.stringValue }
            guard Set(ids).count == requests.count else { return graphError(400, "BadRequest", "Batch request ids must be unique.") }
            state.with { $0.counters.batchSizes.append(requests.count) }
            var responses: [JSONValue] = []
            for inner in requests.reversed() {
                let id = inner["id"]?.stringValue ?? ""
                let method = inner["method"]?.stringValue ?? ""
                let url = inner["url"]?.stringValue ?? ""
                func answer(_ status: Int, _ body: JSONValue, _ headers: JSONObject = [:]) -> JSONValue {
                    var merged = headers
                    merged["Content-Type"] = "application/json"
                    return ["id": .string(id), "status": .number(Double(status)), "headers": .object(merged), "body": body]
                }
                if url.contains("throttle-once"), state.first("batch:" + url) {
                    responses.append(answer(429, ["error": ["code": "TooManyRequests", "message": "throttled"]], ["Retry-After": "1"]))
                } else if url.contains("server-error"), state.first("batch:" + url) {
                    responses.append(answer(503, ["error": ["code": "ServiceUnavailable", "message": "busy"]]))
                } else if method == "GET", url.hasPrefix("/users/") {
                    let user = String(url.dropFirst("/users/".count))
                    responses.append(answer(200, ["id": .string(user)]))
                } else if method == "POST", url.hasPrefix("/groups") {
                    let contentType = inner["headers"]?["Content-Type"]?.stringValue
                    if contentType != "application/json" || inner["body"] == nil {
                        responses.append(answer(400, ["error": ["code": "BadRequest", "message": "Content-Type is required with a body"]]))
                    } else {
                        responses.append(answer(201, ["id": .string("new-" + id), "displayName": inner["body"]?["displayName"] ?? .null]))
                    }
                } else {
                    responses.append(answer(404, ["error": ["code": "Request_ResourceNotFound", "message": "not found"]]))
                }
            }
            return json(200, ["responses": .array(responses)])
        }
    }

    /// Checks a `client_assertion`; `nil` when it is good, otherwise what is wrong.
    static func verify(assertion: String, state: State) -> String? {
        guard let certificate = state.settings.certificate else { return "AADSTS700027: no certificate registered" }
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = base64URLDecode(parts[0]), let claimsData = base64URLDecode(parts[1]),
            let signatureData = base64URLDecode(parts[2]),
            let header = try? JSONCoding.decode(headerData), let claims = try? JSONCoding.decode(claimsData)
        else { return "AADSTS50027: malformed JWT" }
        guard header["alg"]?.stringValue == "RS256", header["typ"]?.stringValue == "JWT" else { return "AADSTS5002730: alg must be RS256" }
        guard header["x5t#S256"]?.stringValue == certificate.thumbprintSHA256 else { return "AADSTS700027: unknown x5t#S256" }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        guard
            certificate.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signatureData),
                for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
        else { return "AADSTS700027: signature verification failed" }
        let now = Date().timeIntervalSince1970
        let tokenURL = "\(state.with { $0.authority })/\(state.settings.tenant)/oauth2/v2.0/token"
        guard claims["aud"]?.stringValue == tokenURL else {
            return "AADSTS700024: aud \(claims["aud"]?.stringValue ?? "-") is not \(tokenURL)"
        }
        guard claims["iss"]?.stringValue == state.settings.clientID, claims["sub"]?.stringValue == state.settings.clientID else {
            return "AADSTS700023: iss and sub must be the client id"
        }
        guard let exp = claims["exp"]?.numberValue, let nbf = claims["nbf"]?.numberValue, claims["iat"]?.numberValue != nil,
            exp > now, nbf <= now + 60, exp - nbf <= 600
        else { return "AADSTS700024: assertion lifetime" }
        guard let jti = claims["jti"]?.stringValue, state.with({ $0.seenJTIs.insert(jti).inserted }) else {
            return "AADSTS700025: jti replayed"
        }
        return nil
    }

    struct GraphAuthentication: RouterMiddleware {
        let state: State
        func handle(_ request: Request, context: ServerContext, next: (Request, ServerContext) async throws -> Response) async throws
            -> Response
        {
            state.with {
                $0.counters.graphRequests += 1
                if let port = context.clientPort { $0.counters.clientPorts.insert(port) }
            }
            if state.settings.requireToken {
                let header = request.headers[.authorization] ?? ""
                let token = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
                let valid = state.with { s in s.tokens[token].map { $0 > Date() } ?? false }
                guard valid else {
                    state.with { $0.counters.unauthorized += 1 }
                    return GraphTestServer.graphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
                }
            }
            return try await next(request, context)
        }
    }
}

/// `{"value": [50 users]}`, gzip-compressed (2,541 bytes of JSON).
let compressedUsers =
    "H4sIAAAAAAACA43VO2oDQRBF0a0MHStQ1Sv9vAhvQDgQngkEEhYaZDBi9m45MPTLbtRB940O1fVs36fLY2pvw/HZzuPrbOu2Gtp4nm+X08/76fp31z6/rrf7NM/TODzm6T6s27Ia/oMAQfRBgiD7QCBQHxQIqg82INj0wRYE2z7YgWDXB3sQ7PvgAIKDwRHqcGuEbdpBuMO8g4CHiQchDzMPgh6mHoQ9zD0IfJh8EPow+yD4YfpJ9NP0k+inzzoadtNPop+mn0Q/TT+Jfpp+Ev00/ST6afpJ9NP0k+in6Yvoy/RF9GX6Ivryvx599qYvoi/TF9GX6Yvoy/RF9GX6IvoyfRF9mX4R/TL9Ivpl+kX0y/SL6JfverTsTb+Ifpl+Ef0y/SL6ZfpF9Mv0i+i/Hi0fyy/gN/8u7QkAAA=="

import Crypto
import Foundation
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatServedFake
import LifeboatTestSupport
import Synchronization
import Testing
import X509
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#endif

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A fake tenant served on 127.0.0.1 (port 0) for one test, with one registered app.
struct ServedTenant: TestStoppable {
    static let clientID = "6731de76-14a6-49ae-97bc-6eba6914391e"
    static let secret = "test-secret~Q8V.not-a-real-one"

    let directory: TemporaryDirectory
    let served: ServedFakeTenant
    var tenant: FakeTenant { served.tenant }
    var server: FakeTenantServer { served.server }
    var base: String { served.root }

    static func start(
        certificates: [RegisteredCertificate] = [], tokenLifetime: Int = 3599, profile: FakeTenantProfile = .fast,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> ServedTenant {
        let directory = try TemporaryDirectory("server")
        let tenant = try FakeTenant(stateFile: directory.path("fake.sqlite"), initialDomain: "served.onmicrosoft.com", profile: profile)
        let served = try await ServedFakeTenant.start(
            tenant, applications: [AppRegistration(clientID: clientID, secrets: [secret], certificates: certificates)],
            tokenLifetime: tokenLifetime, now: now)
        return ServedTenant(directory: directory, served: served)
    }

    func stop() async {
        await served.stop()
    }

    var tokenEndpoint: String { served.tokenEndpoint }

    /// One HTTP exchange over loopback.
    func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil) async throws -> (
        status: Int, headers: [String: String], body: Data
    ) {
        var request = URLRequest(url: try #require(URL(string: url)))
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = body
        let configuration = URLSessionConfiguration.ephemeral
        configuration.connectionProxyDictionary = [:]
        let session = URLSession(configuration: configuration)
        defer { session.finishTasksAndInvalidate() }
        let (data, response) = try await session.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return (http.statusCode, fields, data)
    }

    func form(_ fields: [(String, String)]) -> Data {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return Data(fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&").utf8)
    }

    func requestToken(_ fields: [(String, String)]) async throws -> (status: Int, json: JSONValue) {
        let answer = try await send(
            "POST", tokenEndpoint, headers: ["Content-Type": "application/x-www-form-urlencoded"], body: form(fields))
        return (answer.status, try JSONCoding.decode(answer.body))
    }

    func tokenWithSecret(_ secret: String = ServedTenant.secret) async throws -> (status: Int, json: JSONValue) {
        try await requestToken([
            ("grant_type", "client_credentials"), ("client_id", Self.clientID), ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
    }

    func bearer() async throws -> String {
        let answer = try await tokenWithSecret()
        return try #require(answer.json["access_token"]?.stringValue)
    }

    func graph(_ method: String, _ path: String, token: String?, body: JSONValue? = nil, headers: [String: String] = [:]) async throws
        -> (status: Int, headers: [String: String], json: JSONValue?, raw: Data)
    {
        var fields = headers
        if let token { fields["Authorization"] = "Bearer \(token)" }
        if body != nil { fields["Content-Type"] = "application/json" }
        let answer = try await send(
            method, path.hasPrefix("http") ? path : "\(base)/v1.0\(path)", headers: fields,
            body: try body.map { try JSONCoding.encode($0) })
        return (answer.status, answer.headers, answer.body.isEmpty ? nil : try JSONCoding.decode(answer.body), answer.body)
    }
}

/// A self-signed RSA certificate made for the test; its private key never leaves memory.
struct SigningCertificate {
    let key: _RSA.Signing.PrivateKey
    let certificate: Certificate
    let pem: String
    let sha256: Data

    init(commonName: String = "lifeboat-test") throws {
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName(commonName) }
        let now = Date()
        certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3600), issuer: name, subject: name,
            signatureAlgorithm: .sha256WithRSAEncryption, extensions: Certificate.Extensions {}, issuerPrivateKey: .init(key))
        pem = try certificate.serializeAsPEM().pemString
        sha256 = Data(SHA256.hash(data: try certificate.serializeAsPEM().derBytes))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
            of: "=", with: "")
    }

    /// A client assertion as MSAL builds it.
    func assertion(
        audience: String, clientID: String = ServedTenant.clientID, expiresIn: Double = 600, notBefore: Double = 0,
        thumbprint: Data? = nil
    ) throws -> String {
        let now = Date().timeIntervalSince1970
        let header: JSONValue = ["alg": "RS256", "typ": "JWT", "x5t#S256": .string(Self.base64URL(thumbprint ?? sha256))]
        let claims: JSONValue = [
            "aud": .string(audience), "iss": .string(clientID), "sub": .string(clientID), "jti": .string(UUID().uuidString),
            "nbf": .number((now + notBefore).rounded()), "exp": .number((now + expiresIn).rounded()),
        ]
        let signingInput = Self.base64URL(try JSONCoding.encode(header)) + "." + Self.base64URL(try JSONCoding.encode(claims))
        let signature = try key.signature(for: SHA256.hash(data: Data(signingInput.utf8)), padding: .insecurePKCS1v1_5)
        return signingInput + "." + Self.base64URL(signature.rawRepresentation)
    }
}

@Suite(.serialized) struct FakeTenantServerTests {
    @Test func clientSecretGetsATokenThatOpensGraph() async throws {
        let served = try await ServedTenant.start()
        let answer = try await served.tokenWithSecret()
        #expect(answer.status == 200)
        #expect(answer.json["token_type"] == "Bearer")
        #expect(answer.json["expires_in"] == 3599 && answer.json["ext_expires_in"] == 3599)
        let token = try #require(answer.json["access_token"]?.stringValue)
        // The token names its tenant and app, so a client can check where it is.
        let payload = try #require(
            Data(
                base64Encoded: {
                    var part = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(
                        of: "_", with: "/")
                    while part.count % 4 != 0 { part += "=" }
                    return part
                }()))
        let claims = try JSONCoding.decode(payload)
        #expect(claims["tid"]?.stringValue == served.tenant.tenantID)
        #expect(claims["appid"]?.stringValue == ServedTenant.clientID)

        let users = try await served.graph("GET", "/users", token: token)
        #expect(users.status == 200)
        #expect(users.json?["value"]?.arrayValue == [])
        let health = try await served.send("GET", "\(served.base)/_lifeboat/health")
        #expect(health.status == 200)
        #expect(try JSONCoding.decode(health.body)["tenantId"]?.stringValue == served.tenant.tenantID)
        await served.stop()
    }

    @Test func tokenEndpointErrorsAreAzureADs() async throws {
        let served = try await ServedTenant.start()
        let wrong = try await served.tokenWithSecret("not-the-secret")
        #expect(wrong.status == 401)
        #expect(wrong.json["error"] == "invalid_client")
        #expect(wrong.json["error_description"]?.stringValue?.hasPrefix("AADSTS7000215: Invalid client secret provided.") == true)
        #expect(wrong.json["error_codes"] == [7_000_215])

        let unknownApp = try await served.requestToken([
            ("grant_type", "client_credentials"), ("client_id", "00000000-0000-0000-0000-000000000001"),
            ("client_secret", "x"), ("scope", "https://graph.microsoft.com/.default"),
        ])
        #expect(unknownApp.status == 400 && unknownApp.json["error"] == "unauthorized_client")
        let noScope = try await served.requestToken([
            ("grant_type", "client_credentials"), ("client_id", ServedTenant.clientID),
            ("client_secret", ServedTenant.secret),
        ])
        #expect(noScope.status == 400 && noScope.json["error"] == "invalid_request")
        let delegatedScope = try await served.requestToken([
            ("grant_type", "client_credentials"), ("client_id", ServedTenant.clientID),
            ("client_secret", ServedTenant.secret), ("scope", "User.Read"),
        ])
        #expect(delegatedScope.status == 400 && delegatedScope.json["error"] == "invalid_scope")
        let password = try await served.requestToken([("grant_type", "password"), ("client_id", ServedTenant.clientID)])
        #expect(password.status == 400 && password.json["error"] == "unsupported_grant_type")
        let noCredential = try await served.requestToken([
            ("grant_type", "client_credentials"), ("client_id", ServedTenant.clientID),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        #expect(noCredential.status == 401 && noCredential.json["error"] == "invalid_client")
        let otherTenant = try await served.send(
            "POST", "\(served.base)/contoso.onmicrosoft.com/oauth2/v2.0/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"], body: Data("grant_type=client_credentials".utf8))
        #expect(otherTenant.status == 400)
        // The initial domain names the tenant as well as its id.
        let byDomain = try await served.send(
            "POST", "\(served.base)/served.onmicrosoft.com/oauth2/v2.0/token",
            headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: served.form([
                ("grant_type", "client_credentials"), ("client_id", ServedTenant.clientID),
                ("client_secret", ServedTenant.secret), ("scope", "https://graph.microsoft.com/.default"),
            ]))
        #expect(byDomain.status == 200)

        // Graph without a token, or with one this server never issued.
        for token in [nil, "eyJhbGciOiJub25lIn0.e30.forged"] as [String?] {
            let refused = try await served.graph("GET", "/users", token: token)
            #expect(refused.status == 401)
            #expect(refused.json?["error"]?["code"] == "InvalidAuthenticationToken")
            #expect(refused.json?["error"]?["innerError"]?["request-id"]?.stringValue != nil)
            #expect(refused.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        }
        await served.stop()
    }

    @Test func certificateAssertionIsVerified() async throws {
        let certificate = try SigningCertificate()
        let stranger = try SigningCertificate(commonName: "not-registered")
        let served = try await ServedTenant.start(certificates: [try RegisteredCertificate(pem: certificate.pem)])
        func exchange(_ assertion: String, type: String = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") async throws -> (
            status: Int, json: JSONValue
        ) {
            try await served.requestToken([
                ("grant_type", "client_credentials"), ("client_id", ServedTenant.clientID),
                ("scope", "https://graph.microsoft.com/.default"), ("client_assertion_type", type),
                ("client_assertion", assertion),
            ])
        }
        let good = try await exchange(try certificate.assertion(audience: served.tokenEndpoint))
        #expect(good.status == 200, "\(good.json)")
        let token = try #require(good.json["access_token"]?.stringValue)
        #expect(try await served.graph("GET", "/organization", token: token).status == 200)

        let refusals: [(String, String)] = [
            ("wrong audience", try certificate.assertion(audience: "https://login.microsoftonline.com/x/oauth2/v2.0/token")),
            ("expired", try certificate.assertion(audience: served.tokenEndpoint, expiresIn: -10)),
            ("not yet valid", try certificate.assertion(audience: served.tokenEndpoint, notBefore: 300)),
            ("other issuer", try certificate.assertion(audience: served.tokenEndpoint, clientID: "00000000-0000-0000-0000-000000000002")),
            ("unregistered certificate", try stranger.assertion(audience: served.tokenEndpoint)),
            ("signed by another key", try stranger.assertion(audience: served.tokenEndpoint, thumbprint: certificate.sha256)),
            ("malformed", "not.a.jwt"),
        ]
        for (reason, assertion) in refusals {
            let answer = try await exchange(assertion)
            #expect(answer.status == 401, "\(reason): \(answer.json)")
            #expect(answer.json["error"] == "invalid_client", "\(reason)")
            #expect(answer.json["error_description"]?.stringValue?.hasPrefix("AADSTS") == true, "\(reason)")
        }
        let wrongType = try await exchange(try certificate.assertion(audience: served.tokenEndpoint), type: "urn:other")
        #expect(wrongType.status == 400 && wrongType.json["error"] == "invalid_request")
        await served.stop()
    }

    @Test func tokensExpire() async throws {
        // The token endpoint's clock is the test's: the token expires when the test moves the clock, not after a sleep.
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let served = try await ServedTenant.start(tokenLifetime: 60, now: { clock.withLock { $0 } })
        let answer = try await served.tokenWithSecret()
        #expect(answer.json["expires_in"] == 60)
        let token = try #require(answer.json["access_token"]?.stringValue)
        clock.withLock { $0.addTimeInterval(59) }
        #expect(try await served.graph("GET", "/users", token: token).status == 200)
        clock.withLock { $0.addTimeInterval(2) }
        let expired = try await served.graph("GET", "/users", token: token)
        #expect(expired.status == 401)
        #expect(expired.json?["error"]?["message"]?.stringValue?.contains("expired") == true)
        #expect(try await served.graph("GET", "/users", token: try await served.bearer()).status == 200)
        await served.stop()
    }

    @Test func usersAreCreatedAndPagedThroughTheServer() async throws {
        let served = try await ServedTenant.start()
        let token = try await served.bearer()
        for number in 1...5 {
            let created = try await served.graph(
                "POST", "/users", token: token,
                body: [
                    "accountEnabled": true, "displayName": .string("User \(number)"), "mailNickname": .string("user\(number)"),
                    "userPrincipalName": .string("user\(number)@served.onmicrosoft.com"),
                    "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
                ])
            #expect(created.status == 201)
            #expect(created.headers["request-id"] != nil)
        }
        var next: String? = "\(served.base)/v1.0/users?$top=2&$select=id,userPrincipalName"
        var names: [String] = [], pages = 0
        while let url = next {
            let page = try await served.graph("GET", url, token: token)
            #expect(page.status == 200)
            names += page.json?["value"]?.arrayValue?.compactMap { $0["userPrincipalName"]?.stringValue } ?? []
            next = page.json?["@odata.nextLink"]?.stringValue
            if let next { #expect(next.hasPrefix("\(served.base)/v1.0/users?")) }
            pages += 1
        }
        #expect(pages == 3)
        #expect(names == (1...5).map { "user\($0)@served.onmicrosoft.com" })
        // Graph's errors pass through unchanged.
        let duplicate = try await served.graph(
            "POST", "/users", token: token,
            body: [
                "accountEnabled": true, "displayName": "Again", "mailNickname": "user1",
                "userPrincipalName": "user1@served.onmicrosoft.com",
                "passwordProfile": ["password": "Str0ng!Passw0rd#1"],
            ])
        #expect(duplicate.status == 400)
        #expect(duplicate.json?["error"]?["code"] == "Request_BadRequest")
        await served.stop()
    }

    @Test func percentEncodedAlternateKeysReachTheTenantUnchanged() async throws {
        let served = try await ServedTenant.start()
        let token = try await served.bearer()
        let path = "/groups(uniqueName='a%20b')"
        let created = try await served.graph(
            "PATCH", path, token: token,
            body: ["displayName": "A B", "mailEnabled": false, "mailNickname": "ab", "securityEnabled": true],
            headers: ["Prefer": "create-if-missing"])
        #expect(created.status == 201)
        #expect(created.json?["uniqueName"] == "a b")
        let read = try await served.graph("GET", path, token: token)
        #expect(read.status == 200)
        // The same request in process gives the same body, byte for byte.
        let direct = await served.tenant.handle(LifeboatGraph.HTTPRequest(method: "GET", url: "\(served.base)/v1.0\(path)"))
        #expect(direct.status == 200)
        #expect(read.raw == direct.body)
        let members = try await served.graph("GET", "/groups/\(try #require(read.json?["id"]?.stringValue))/members?$top=5", token: token)
        #expect(members.status == 200)
        await served.stop()
    }
}

/// A served fake is gone when its test ends: `stopping` awaits the stop however the body ends, and the stop checks the port.
@Suite struct ServedFakeLifetimeTests {
    struct Thrown: Error {}

    @Test func stoppingAwaitsTheStopAfterAThrowAndThePortIsClosed() async throws {
        let served = try await ServedTenant.start()
        let port = served.served.port
        // The probe sees a listener (a bare socket: a connection opened and dropped at once is no request for the fake).
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 1) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        #expect(bound && LoopbackPort.accepts(Int(UInt16(bigEndian: address.sin_port))))
        await #expect(throws: Thrown.self) {
            try await stopping(served) { _ in throw Thrown() }
        }
        #expect(!LoopbackPort.accepts(port), "nothing listens on \(port) once stopping returned")
    }
}

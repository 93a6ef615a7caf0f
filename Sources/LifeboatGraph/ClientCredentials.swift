import Crypto
import Foundation
import LifeboatJSON
import Logging
import _CryptoExtras

/// A client secret, read from an environment variable or a file — never from the command line,
/// where other users of the machine could read it in the process list.
package struct ClientSecret: Sendable, CustomStringConvertible {
    let value: String

    private init(value: String) { self.value = value }

    /// The secret in the environment variable `name`.
    package static func environment(_ name: String, in environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> ClientSecret
    {
        guard let value = environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw CredentialError("the environment variable \(name) holding the client secret is not set or empty")
        }
        return ClientSecret(value: value)
    }

    /// The secret in the file at `path` (surrounding whitespace and the final newline ignored).
    package static func file(_ path: String) throws -> ClientSecret {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CredentialError("the client secret file \(path) cannot be read")
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw CredentialError("the client secret file \(path) is empty") }
        return ClientSecret(value: value)
    }

    package var description: String { "ClientSecret(\(Redaction.mask))" }
}

/// A certificate credential: a PEM private key (RSA, or EC P-256) and its PEM certificate.
///
/// Signs the `client_assertion` JWT with RS256 (PKCS#1 v1.5) or ES256, with the certificate's
/// SHA-256 thumbprint in the `x5t#S256` header.
package struct ClientCertificate: Sendable, CustomStringConvertible {
    enum SigningKey: Sendable {
        case rsa(_RSA.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
    }

    let key: SigningKey
    /// The DER bytes of the certificate.
    package let certificateDER: Data
    /// base64url of the SHA-256 of the DER certificate, as sent in `x5t#S256`.
    package let thumbprintSHA256: String

    /// Parses the key and the certificate (the first one, when the PEM holds a chain).
    package init(privateKeyPEM: String, certificatePEM: String) throws {
        guard let der = Self.firstBlock(of: "CERTIFICATE", in: certificatePEM) else {
            throw CredentialError("the certificate is not a PEM CERTIFICATE block")
        }
        certificateDER = der
        thumbprintSHA256 = Base64URL.encode(Data(SHA256.hash(data: der)))
        if let rsa = try? _RSA.Signing.PrivateKey(pemRepresentation: privateKeyPEM) {
            key = .rsa(rsa)
        } else if let ec = try? P256.Signing.PrivateKey(pemRepresentation: privateKeyPEM) {
            key = .p256(ec)
        } else {
            throw CredentialError("the private key is neither an RSA key of at least 2048 bits nor an EC P-256 key in PEM")
        }
    }

    /// Reads the key and the certificate from PEM files.
    package static func files(privateKey keyPath: String, certificate certificatePath: String) throws -> ClientCertificate {
        guard let key = try? String(contentsOfFile: keyPath, encoding: .utf8) else {
            throw CredentialError("the private key file \(keyPath) cannot be read")
        }
        guard let certificate = try? String(contentsOfFile: certificatePath, encoding: .utf8) else {
            throw CredentialError("the certificate file \(certificatePath) cannot be read")
        }
        return try ClientCertificate(privateKeyPEM: key, certificatePEM: certificate)
    }

    /// `RS256` or `ES256`.
    package var algorithm: String {
        switch key {
        case .rsa: return "RS256"
        case .p256: return "ES256"
        }
    }

    package var description: String { "ClientCertificate(\(algorithm), x5t#S256 \(thumbprintSHA256))" }

    private struct Header: Encodable {
        var alg: String
        var typ = "JWT"
        var x5tS256: String
        enum CodingKeys: String, CodingKey {
            case alg, typ
            case x5tS256 = "x5t#S256"
        }
    }

    private struct Claims: Encodable {
        var aud: String
        var iss: String
        var sub: String
        var jti: String
        var nbf: Int
        var iat: Int
        var exp: Int
    }

    /// A signed `client_assertion` for the token endpoint `audience`, valid for `lifetime` seconds (at most 10 minutes).
    package func assertion(clientID: String, audience: String, now: Date, lifetime: Double = 600) throws -> String {
        let issued = Int(now.timeIntervalSince1970)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let header = try encoder.encode(Header(alg: algorithm, x5tS256: thumbprintSHA256))
        let claims = try encoder.encode(
            Claims(
                aud: audience, iss: clientID, sub: clientID, jti: UUID().uuidString.lowercased(),
                nbf: issued, iat: issued, exp: issued + Int(min(600, max(60, lifetime)))))
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(claims)
        let signature: Data
        switch key {
        case .rsa(let rsa):
            signature = try rsa.signature(for: Data(signingInput.utf8), padding: .insecurePKCS1v1_5).rawRepresentation
        case .p256(let ec):
            signature = try ec.signature(for: Data(signingInput.utf8)).rawRepresentation
        }
        return signingInput + "." + Base64URL.encode(signature)
    }

    static func firstBlock(of label: String, in pem: String) -> Data? {
        guard let begin = pem.range(of: "-----BEGIN \(label)-----"),
            let end = pem.range(of: "-----END \(label)-----", range: begin.upperBound..<pem.endIndex)
        else { return nil }
        let base64 = pem[begin.upperBound..<end.lowerBound].filter { !$0.isWhitespace }
        return Data(base64Encoded: String(base64))
    }
}

/// base64url without padding, as JWTs use it.
package enum Base64URL {
    package static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package static func decode(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// A credential that cannot be used as configured.
package struct CredentialError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// OAuth 2.0 client credentials against the Microsoft identity platform's v2 token endpoint.
///
/// Caches the token and renews it before it expires (by default 5 minutes early, or after half
/// its lifetime for short-lived tokens); concurrent callers share one token request. After Graph
/// answers 401, ``invalidate()`` drops the cached token so the next caller fetches a new one.
/// Neither the secret, the assertion nor the token is ever logged.
package actor ClientCredentials: AccessTokenProvider {
    /// How the application proves who it is.
    package enum Credential: Sendable {
        case secret(ClientSecret)
        case certificate(ClientCertificate)
    }

    private struct Token: Sendable {
        var value: String
        var renewAt: Date
        var expiresAt: Date
    }

    /// The directory (tenant id or initial domain).
    package nonisolated let tenant: String
    /// The application (client) id.
    package nonisolated let clientID: String
    /// `{authority}/{tenant}/oauth2/v2.0/token`.
    package nonisolated let tokenURL: String
    /// `{graph root}/.default`.
    package nonisolated let scope: String
    private let credential: Credential
    private let transport: any HTTPTransport
    private let clock: any GraphClock
    private let renewalMargin: Double
    private let retry: RetryPolicy
    private let logger: Logger?

    private var cached: Token?
    private var inFlight: Task<Token, any Error>?
    /// Tokens obtained so far.
    package private(set) var tokensIssued = 0

    package init(
        tenant: String, clientID: String, credential: Credential, endpoints: GraphEndpoints,
        transport: any HTTPTransport, clock: any GraphClock = SystemClock(), renewalMargin: Double = 300,
        retry: RetryPolicy = RetryPolicy(maxTransientAttempts: 4), logger: Logger? = nil
    ) {
        self.tenant = tenant
        self.clientID = clientID
        self.tokenURL = endpoints.tokenURL(tenant: tenant)
        self.scope = endpoints.scope
        self.credential = credential
        self.transport = transport
        self.clock = clock
        self.renewalMargin = renewalMargin
        self.retry = retry
        self.logger = logger
    }

    package func accessToken() async throws -> String {
        let now = await clock.now()
        if let cached, now < cached.renewAt { return cached.value }
        if inFlight == nil {
            inFlight = Task { try await self.requestToken() }
        }
        let request = inFlight!
        do {
            let token = try await request.value
            if inFlight == request { inFlight = nil }
            if cached.map({ $0.expiresAt < token.expiresAt }) ?? true { cached = token }
            return token.value
        } catch {
            if inFlight == request { inFlight = nil }
            // Renewal failed: a token that has not expired yet still works.
            if let cached, await clock.now() < cached.expiresAt { return cached.value }
            throw error
        }
    }

    package func invalidate() {
        cached = nil
    }

    private func requestToken() async throws -> Token {
        var attempt = 0
        while true {
            attempt += 1
            let now = await clock.now()
            var form = [("client_id", clientID), ("scope", scope), ("grant_type", "client_credentials")]
            switch credential {
            case .secret(let secret):
                form.append(("client_secret", secret.value))
            case .certificate(let certificate):
                form.append(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"))
                form.append(("client_assertion", try certificate.assertion(clientID: clientID, audience: tokenURL, now: now)))
            }
            let request = HTTPRequest(
                method: "POST", url: tokenURL,
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"],
                body: Data(Self.formEncode(form).utf8), timeout: 60)
            let started = Date()
            let response: HTTPResponse
            do {
                response = try await transport.send(request)
            } catch {
                logger?.warning("token request failed", metadata: ["url": "\(tokenURL)", "error": "\(Redaction.redact("\(error)"))"])
                guard attempt < retry.maxTransientAttempts else {
                    throw GraphError(
                        kind: .notSent, status: 0, code: "TokenUnavailable", message: "the token endpoint did not answer: \(error)",
                        method: "POST", path: tokenURL)
                }
                try await clock.sleep(seconds: retry.backoff(attempt: attempt))
                continue
            }
            let elapsed = Int(Date().timeIntervalSince(started) * 1000)
            logger?.debug(
                "POST \(tokenURL) \(response.status)",
                metadata: [
                    "duration-ms": "\(elapsed)",
                    "request-id": "\(response.headers["x-ms-request-id"] ?? response.headers["request-id"] ?? "-")",
                ])
            logger?.trace("token response", metadata: ["body": "\(Redaction.redact(body: response.body))"])
            let json = try? JSONCoding.decode(response.body)
            if response.status == 200, let token = json?["access_token"]?.stringValue {
                let lifetime = json?["expires_in"]?.numberValue ?? json?["expires_in"]?.stringValue.flatMap(Double.init) ?? 3600
                let renewAfter = max(lifetime - renewalMargin, lifetime / 2)
                tokensIssued += 1
                return Token(value: token, renewAt: now.addingTimeInterval(renewAfter), expiresAt: now.addingTimeInterval(lifetime))
            }
            let code = json?["error"]?.stringValue ?? "HTTP\(response.status)"
            let message = json?["error_description"]?.stringValue ?? "the token endpoint answered \(response.status)"
            let requestID = json?["correlation_id"]?.stringValue ?? json?["trace_id"]?.stringValue ?? response.headers["x-ms-request-id"]
            let transient = response.status == 429 || response.status >= 500
            if transient, attempt < retry.maxTransientAttempts {
                let wait = response.headers["retry-after"].flatMap(Double.init) ?? retry.backoff(attempt: attempt)
                try await clock.sleep(seconds: wait)
                continue
            }
            throw GraphError(
                kind: transient ? .notSent : .http, status: response.status, code: code, message: message,
                requestID: requestID, method: "POST", path: tokenURL)
        }
    }

    private static let formAllowed: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        set.insert(charactersIn: "-._*")
        return set
    }()

    /// `application/x-www-form-urlencoded`.
    static func formEncode(_ fields: [(String, String)]) -> String {
        fields.map { name, value in
            let encoded = value.addingPercentEncoding(withAllowedCharacters: formAllowed) ?? value
            return "\(name)=\(encoded)"
        }.joined(separator: "&")
    }
}

import Crypto
import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import X509
import _CryptoExtras

/// An application registered with the fake tenant's token endpoint: its client id and the
/// credentials it may prove itself with (client secrets and/or certificates).
package struct AppRegistration: Sendable {
    /// The application (client) id.
    package var clientID: String
    /// Client secret values (never logged).
    package var secrets: [String]
    /// Certificates whose private keys may sign a `client_assertion`.
    package var certificates: [RegisteredCertificate]
    /// The Graph application permissions granted to the app, issued as the token's `roles` claim
    /// (``FakeTenantPermissions/defaultGrants`` unless given).
    package var roles: [String]

    package init(
        clientID: String, secrets: [String] = [], certificates: [RegisteredCertificate] = [],
        roles: [String] = FakeTenantPermissions.defaultGrants
    ) {
        self.clientID = clientID
        self.secrets = secrets
        self.certificates = certificates
        self.roles = roles
    }
}

/// A certificate credential: the public key that verifies client assertions, and the thumbprints a
/// JWT header names it by (`x5t#S256`, or the older SHA-1 `x5t`).
package struct RegisteredCertificate: Sendable {
    package let publicKey: _RSA.Signing.PublicKey
    /// SHA-256 of the certificate's DER encoding.
    package let sha256Thumbprint: Data
    /// SHA-1 of the certificate's DER encoding (`x5t`, still sent by some clients).
    package let sha1Thumbprint: Data

    /// Reads a PEM certificate with an RSA public key.
    package init(pem: String) throws(CredentialError) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw CredentialError("the certificate is not a PEM X.509 certificate (\(error))")
        }
        try self.init(certificate)
    }

    /// Uses a parsed certificate with an RSA public key.
    package init(_ certificate: Certificate) throws(CredentialError) {
        guard let key = _RSA.Signing.PublicKey(certificate.publicKey) else {
            throw CredentialError("the certificate's key is not RSA; Entra ID client assertions are RS256 or PS256")
        }
        let der: Data
        do {
            der = Data(try certificate.serializeAsPEM().derBytes)
        } catch {
            throw CredentialError("the certificate cannot be DER-encoded (\(error))")
        }
        publicKey = key
        sha256Thumbprint = Data(SHA256.hash(data: der))
        sha1Thumbprint = Data(Insecure.SHA1.hash(data: der))
    }
}

/// The fake tenant's Microsoft identity platform: issues access tokens through the OAuth2
/// client-credentials grant and remembers them until they expire.
///
/// Tokens are unsigned JWTs (`alg: none`) that carry `tid`, `appid`, `aud`, `iat`, `nbf` and `exp`,
/// so a client can read its tenant, with a random last segment: the authority accepts only tokens
/// it issued, from its own table.
package actor FakeTokenAuthority {
    package nonisolated let tenantID: String
    /// Names the token endpoint accepts for this tenant: its id and its initial domain.
    package nonisolated let tenantNames: Set<String>
    /// Seconds a token is valid (Entra ID: 3599 by default; between 60 and 86,400 here).
    package nonisolated let tokenLifetime: Int
    private var registrations: [String: AppRegistration]
    private var issued: [String: (clientID: String, expiresAt: Date, roles: Set<String>)] = [:]
    private let now: @Sendable () -> Date

    package init(
        tenantID: String, initialDomain: String, applications: [AppRegistration], tokenLifetime: Int = 3599,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.tenantID = tenantID
        tenantNames = [tenantID.lowercased(), initialDomain.lowercased()]
        self.tokenLifetime = tokenLifetime
        registrations = Dictionary(applications.map { ($0.clientID.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        self.now = now
    }

    /// Why a Graph request's bearer token was refused.
    package enum TokenProblem: Sendable, Equatable {
        case missing, unknown, expired

        /// Graph's message for the 401 `InvalidAuthenticationToken`.
        package var message: String {
            switch self {
            case .missing: "Access token is empty."
            case .unknown: "Access token validation failure. Invalid audience."
            case .expired: "Lifetime validation failed, the token is expired."
            }
        }
    }

    /// Checks an `Authorization` header value: `nil` when it carries a live token this authority issued.
    package func check(authorization: String?) -> TokenProblem? {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return .missing }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return .missing }
        guard let entry = issued[token] else { return .unknown }
        guard entry.expiresAt > now() else {
            issued[token] = nil
            return .expired
        }
        return nil
    }

    /// The application permissions (`roles`) of a live token this authority issued, `nil` otherwise.
    package func roles(authorization: String?) -> Set<String>? {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard let entry = issued[token], entry.expiresAt > now() else { return nil }
        return entry.roles
    }

    /// The client id a live token this authority issued was issued to, `nil` otherwise.
    package func clientID(authorization: String?) -> String? {
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        let token = authorization.dropFirst(7).trimmingCharacters(in: .whitespaces)
        guard let entry = issued[token], entry.expiresAt > now() else { return nil }
        return entry.clientID
    }

    /// Tokens issued since the authority started.
    package private(set) var tokensIssued = 0

    /// Live tokens (expired ones are forgotten when they are next presented or when a new token is issued).
    package var liveTokenCount: Int { issued.values.filter { $0.expiresAt > now() }.count }

    // MARK: - The token endpoint

    /// A token endpoint answer: status, JSON body.
    package struct TokenResponse: Sendable {
        package var status: Int
        package var body: JSONObject
    }

    /// Answers `POST /{tenant}/oauth2/v2.0/token` with the form fields of the request.
    ///
    /// - Parameter endpoint: the URL the client posted to (scheme, host, port and path), which a client assertion's `aud` must name.
    package func token(tenant: String, form: [String: String], endpoint: String) -> TokenResponse {
        do {
            let clientID = try grant(tenant: tenant, form: form, endpoint: endpoint)
            return TokenResponse(status: 200, body: issue(to: clientID))
        } catch {
            return TokenResponse(status: error.status, body: error.body(now: now()))
        }
    }

    private func grant(tenant: String, form: [String: String], endpoint: String) throws(TokenEndpointError) -> String {
        guard tenantNames.contains(tenant.lowercased()) else {
            throw TokenEndpointError(
                400, "invalid_request", 90002,
                "Tenant '\(tenant)' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
        }
        guard let grantType = form["grant_type"], !grantType.isEmpty else { throw .missing("grant_type") }
        guard grantType == "client_credentials" else {
            throw TokenEndpointError(
                400, "unsupported_grant_type", 70003,
                "The app requested an unsupported grant type '\(grantType)'. The fake tenant issues tokens for client_credentials only.")
        }
        guard let clientID = form["client_id"], !clientID.isEmpty else { throw .missing("client_id") }
        guard let scope = form["scope"], !scope.isEmpty else { throw .missing("scope") }
        guard scope.hasSuffix("/.default"), !scope.contains(" ") else {
            throw TokenEndpointError(
                400, "invalid_scope", 1_002_012,
                "The provided value for scope \(scope) is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            )
        }
        let resource = String(scope.dropLast("/.default".count))
        guard
            ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000", "https://graph.microsoft.com/"].contains(
                resource.lowercased())
                || endpoint.lowercased().hasPrefix(resource.lowercased() + "/")
        else {
            throw TokenEndpointError(
                400, "invalid_resource", 500_011,
                "The resource principal named \(resource) was not found in the tenant named \(tenant). Use https://graph.microsoft.com/.default."
            )
        }
        guard let registration = registrations[clientID.lowercased()] else {
            throw TokenEndpointError(
                400, "unauthorized_client", 700_016,
                "Application with identifier '\(clientID)' was not found in the directory '\(tenant)'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            )
        }
        let secret = form["client_secret"], assertion = form["client_assertion"]
        switch (secret, assertion) {
        case (nil, nil):
            throw TokenEndpointError(
                401, "invalid_client", 7_000_218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
        case (.some, .some):
            throw TokenEndpointError(
                400, "invalid_request", 90_014,
                "The request body must contain only one client credential: 'client_secret' or 'client_assertion'.")
        case (let secret?, nil):
            // Compare against every registered secret in constant time per candidate.
            guard registration.secrets.contains(where: { Self.constantTimeEqual($0, secret) }) else {
                throw TokenEndpointError(
                    401, "invalid_client", 7_000_215,
                    "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '\(registration.clientID)'."
                )
            }
        case (nil, let assertion?):
            guard form["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" else {
                throw TokenEndpointError(
                    400, "invalid_request", 900_144,
                    "The request body must contain the following parameter: 'client_assertion_type' with the value urn:ietf:params:oauth:client-assertion-type:jwt-bearer."
                )
            }
            try verify(assertion: assertion, registration: registration, endpoint: endpoint)
        }
        return registration.clientID
    }

    private func verify(assertion: String, registration: AppRegistration, endpoint: String) throws(TokenEndpointError) {
        let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(String(parts[0])), let payloadData = Base64URL.decode(String(parts[1])),
            let signature = Base64URL.decode(String(parts[2])),
            let header = try? JSONCoding.decode(headerData).objectValue, let claims = try? JSONCoding.decode(payloadData).objectValue
        else {
            throw TokenEndpointError(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        }
        let algorithm = header["alg"]?.stringValue ?? ""
        guard algorithm == "RS256" || algorithm == "PS256" else {
            throw TokenEndpointError(
                401, "invalid_client", 5_002_738, "Invalid JWT token. 'alg' \(algorithm) is not supported; use RS256 or PS256.")
        }
        // The header names the certificate by its SHA-256 thumbprint (or, from older clients, SHA-1).
        let candidates: [RegisteredCertificate]
        if let thumbprint = header["x5t#S256"]?.stringValue {
            candidates = registration.certificates.filter { Base64URL.decode(thumbprint) == $0.sha256Thumbprint }
        } else if let thumbprint = header["x5t"]?.stringValue {
            candidates = registration.certificates.filter { Base64URL.decode(thumbprint) == $0.sha1Thumbprint }
        } else {
            throw TokenEndpointError(
                401, "invalid_client", 700_027,
                "Client assertion failed signature validation: the header names no certificate ('x5t#S256').")
        }
        guard !candidates.isEmpty else {
            throw TokenEndpointError(
                401, "invalid_client", 700_027,
                "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '\(registration.clientID)'.]"
            )
        }
        let signed = Data((parts[0] + "." + parts[1]).utf8)
        let signatureValue = _RSA.Signing.RSASignature(rawRepresentation: signature)
        let padding: _RSA.Signing.Padding = algorithm == "PS256" ? .PSS : .insecurePKCS1v1_5
        guard
            candidates.contains(where: { $0.publicKey.isValidSignature(signatureValue, for: SHA256.hash(data: signed), padding: padding) })
        else {
            throw TokenEndpointError(401, "invalid_client", 700_027, "Client assertion contains an invalid signature.")
        }
        let audiences = claims["aud"]?.stringValue.map { [$0] } ?? claims["aud"]?.stringArray ?? []
        guard audiences.contains(where: { $0.caseInsensitiveCompare(endpoint) == .orderedSame }) else {
            throw TokenEndpointError(
                401, "invalid_client", 700_021,
                "Client assertion audience claim does not match Realm issuer. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials. (expected aud \(endpoint))"
            )
        }
        guard claims["iss"]?.stringValue?.lowercased() == registration.clientID.lowercased(),
            claims["sub"]?.stringValue?.lowercased() == registration.clientID.lowercased()
        else {
            throw TokenEndpointError(
                401, "invalid_client", 700_023,
                "Client assertion application identifier doesn't match 'client_id' parameter: 'iss' and 'sub' must both be the client id.")
        }
        let current = now().timeIntervalSince1970
        guard let expiry = claims["exp"]?.numberValue, expiry > current else {
            throw TokenEndpointError(
                401, "invalid_client", 700_024, "Client assertion is not within its valid time range: 'exp' is missing or in the past.")
        }
        if let notBefore = claims["nbf"]?.numberValue, notBefore > current + 1 {
            throw TokenEndpointError(
                401, "invalid_client", 700_024, "Client assertion is not within its valid time range: 'nbf' is in the future.")
        }
    }

    private func issue(to clientID: String) -> JSONObject {
        let issuedAt = now()
        let roles = registrations[clientID.lowercased()]?.roles ?? []
        // Forget expired tokens now and then, so the table stays the size of the live ones.
        if issued.count > 1024 { issued = issued.filter { $0.value.expiresAt > issuedAt } }
        let seconds = Int(issuedAt.timeIntervalSince1970)
        let header = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
        let claims: JSONValue = [
            "aud": "https://graph.microsoft.com", "iss": .string("https://sts.windows.net/\(tenantID)/"), "tid": .string(tenantID),
            "appid": .string(clientID), "idtyp": "app", "iat": .number(Double(seconds)), "nbf": .number(Double(seconds)),
            "exp": .number(Double(seconds + tokenLifetime)), "ver": "1.0", "roles": .array(roles.map(JSONValue.string)),
        ]
        let payload = Base64URL.encode((try? JSONCoding.encode(claims)) ?? Data())
        let nonce = Base64URL.encode(Data(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }))
        let token = "\(header).\(payload).\(nonce)"
        issued[token] = (clientID, issuedAt.addingTimeInterval(Double(tokenLifetime)), Set(roles))
        tokensIssued += 1
        return [
            "token_type": "Bearer", "expires_in": .number(Double(tokenLifetime)), "ext_expires_in": .number(Double(tokenLifetime)),
            "access_token": .string(token),
        ]
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8), right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// An error the token endpoint answers with, in Entra ID's shape.
struct TokenEndpointError: Error {
    var status: Int
    var error: String
    var code: Int
    var message: String

    init(_ status: Int, _ error: String, _ code: Int, _ message: String) {
        self.status = status
        self.error = error
        self.code = code
        self.message = message
    }

    static func missing(_ parameter: String) -> TokenEndpointError {
        TokenEndpointError(400, "invalid_request", 900_144, "The request body must contain the following parameter: '\(parameter)'.")
    }

    func body(now: Date) -> JSONObject {
        let trace = UUID().uuidString.lowercased(), correlation = UUID().uuidString.lowercased()
        let timestamp = ISO8601DateFormatter().string(from: now)
        return [
            "error": .string(error),
            "error_description": .string(
                "AADSTS\(code): \(message) Trace ID: \(trace) Correlation ID: \(correlation) Timestamp: \(timestamp)"),
            "error_codes": [.number(Double(code))], "timestamp": .string(timestamp), "trace_id": .string(trace),
            "correlation_id": .string(correlation), "error_uri": .string("https://login.microsoftonline.com/error?code=\(code)"),
        ]
    }
}

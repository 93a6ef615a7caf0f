import Foundation
import LifeboatJSON

/// Removes secrets from anything Lifeboat logs: bearer tokens, client secrets and assertions,
/// access tokens and passwords, whether they appear in headers, form bodies or JSON.
package enum Redaction {
    /// What replaces a secret.
    package static let mask = "[REDACTED]"

    /// Header names whose values are never logged (compared case-insensitively).
    package static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// Field names whose values are never logged, in form bodies, query strings and JSON (compared case-insensitively).
    ///
    /// The OAuth2 fields of the token endpoint, and every secret-bearing property of Graph v1.0's CSDL
    /// (`v1.0-cleanMetadata.xml`): the value of a Temporary Access Pass (temporaryaccesspassauthenticationmethod.md),
    /// a new client secret (`secretText`, application-addpassword.md) and its `hint`, passwords (passwordProfile,
    /// `newPassword`/`currentPassword`, device settings' passwords),
    /// tokens, keys and credentials of synchronization and identity providers, and `inviteRedeemUrl`, which signs a
    /// guest in (invitation.md).
    package static let secretFields = [
        "client_secret", "client_assertion", "access_token", "refresh_token", "id_token", "password", "assertion",
        "newPassword", "currentPassword", "secretText", "temporaryAccessPass", "hint", "clientSecret", "secret", "secretKey",
        "privateKey", "passwordBase64", "adDomainPassword", "localAdminPassword", "accessToken", "refreshToken", "idToken",
        "token", "apiToken", "clientToken", "serverToken", "saml2Token", "sasToken", "recordingAccessToken", "passcode",
        "unlockPin", "activationLockBypassCode", "inviteRedeemUrl", "proof",
    ]

    /// Properties whose whole value (an array or object of name/value pairs) is secret, whatever it holds.
    package static let secretContainers = ["credentials", "secrets", "tokens"]

    private static let secretNames: Set<String> = Set((secretFields + secretContainers).map { $0.lowercased() })

    /// Headers with secret values masked.
    package static func redact(headers: [String: String]) -> [String: String] {
        var result = headers
        for name in headers.keys where secretHeaders.contains(name.lowercased()) {
            result[name] = mask
        }
        return result
    }

    private static let patterns: [NSRegularExpression] = {
        let fields = (secretFields + secretContainers).map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|")
        let sources = [
            // JSON: "password": "…" (escaped quotes included).
            #"("(?:"# + fields + #")"\s*:\s*")(?:[^"\\]|\\.)*(")"#,
            // Forms and query strings: client_secret=…&
            #"((?:^|[?&\s])(?:"# + fields + #")=)[^&\s"]*()"#,
            // Authorization: Bearer …, Basic …
            #"((?i:bearer|basic)\s+)[A-Za-z0-9\-._~+/]+=*()"#,
        ]
        return sources.map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }
    }()

    /// The text with every secret value masked.
    package static func redact(_ text: String) -> String {
        var text = text
        for pattern in patterns {
            let range = NSRange(text.startIndex..., in: text)
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "$1\(mask)$2")
        }
        return text
    }

    /// A body for a log line: redacted UTF-8 text, cut to `limit` characters. A JSON body is redacted by structure (any
    /// value of a secret property, at any depth, whatever its type), then as text like any other body.
    package static func redact(body: Data?, limit: Int = 2000) -> String {
        guard let body, !body.isEmpty else { return "" }
        var text = String(decoding: body, as: UTF8.self)
        if let first = body.first(where: { !$0.isASCIIWhitespace }), first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
            let json = try? JSONCoding.decode(body), let encoded = try? JSONCoding.encode(redact(json: json))
        {
            text = String(decoding: encoded, as: UTF8.self)
        }
        text = redact(text)
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    /// The JSON value with the value of every secret property masked.
    package static func redact(json: JSONValue) -> JSONValue {
        switch json {
        case .object(let object):
            var result: JSONObject = [:]
            for (name, value) in object {
                result[name] = secretNames.contains(name.lowercased()) && !value.isNull ? .string(mask) : redact(json: value)
            }
            return .object(result)
        case .array(let values):
            return .array(values.map(redact(json:)))
        default:
            return json
        }
    }
}

extension UInt8 {
    fileprivate var isASCIIWhitespace: Bool { self == 0x20 || self == 0x0A || self == 0x0D || self == 0x09 }
}

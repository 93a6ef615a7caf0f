import Foundation

/// Removes secrets from anything Lifeboat logs: bearer tokens, client secrets and assertions,
/// access tokens and passwords, whether they appear in headers, form bodies or JSON.
public enum Redaction {
    /// What replaces a secret.
    public static let mask = "[REDACTED]"

    /// Header names whose values are never logged (compared case-insensitively).
    public static let secretHeaders: Set<String> = ["authorization", "proxy-authorization", "cookie", "set-cookie"]

    /// Field names whose values are never logged, in form bodies, query strings and JSON.
    public static let secretFields = [
        "client_secret", "client_assertion", "access_token", "refresh_token", "id_token", "password",
        "newPassword", "currentPassword", "secretText", "assertion",
    ]

    /// Headers with secret values masked.
    public static func redact(headers: [String: String]) -> [String: String] {
        var result = headers
        for name in headers.keys where secretHeaders.contains(name.lowercased()) {
            result[name] = mask
        }
        return result
    }

    private static let patterns: [NSRegularExpression] = {
        let fields = secretFields.map(NSRegularExpression.escapedPattern(for:)).joined(separator: "|")
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
    public static func redact(_ text: String) -> String {
        var text = text
        for pattern in patterns {
            let range = NSRange(text.startIndex..., in: text)
            text = pattern.stringByReplacingMatches(in: text, range: range, withTemplate: "$1\(mask)$2")
        }
        return text
    }

    /// A body for a log line: redacted UTF-8 text, cut to `limit` characters.
    public static func redact(body: Data?, limit: Int = 2000) -> String {
        guard let body, !body.isEmpty else { return "" }
        let text = redact(String(decoding: body, as: UTF8.self))
        return text.count > limit ? String(text.prefix(limit)) + "…" : text
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON

/// A Graph request as the fake sees it: method, decoded path segments, query options and JSON body.
struct FakeRequest {
    var method: String
    /// The URL up to and including the version root, e.g. `http://127.0.0.1:8080/v1.0`.
    var base: String
    /// Decoded path below the version root, e.g. `/groups(uniqueName='x')`.
    let path: String
    /// The path's segments, e.g. `["groups(uniqueName='x')", "members"]`: split once, read by the permission check,
    /// the throttling cost and the router.
    let segments: [String]
    var query: [String: String]
    var headers: [String: String]
    var body: JSONObject?

    init(_ request: HTTPRequest) throws(GraphFailure) {
        method = request.method.uppercased()
        headers = Dictionary(request.headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        var url = Substring(request.url)
        var query: [String: String] = [:]
        if let mark = url.utf8.firstIndex(of: UInt8(ascii: "?")) {
            for pair in url[url.index(after: mark)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                let name = Self.decoded(parts[0])
                let value = parts.count > 1 ? Self.decoded(parts[1]) : ""
                query[name] = value
            }
            url = url[..<mark]
        }
        self.query = query
        guard let version = Self.versionRoot(in: url) else {
            throw GraphFailure(status: 400, code: "BadRequest", message: "Invalid version: only /v1.0 is served by this fake tenant.")
        }
        base = String(url[..<version.upperBound])
        let rest = String(url[version.upperBound...])
        let decoded = Self.decoded(Substring(rest))
        path = decoded.isEmpty ? "/" : decoded
        segments = Self.segments(of: path)
        if let json = request.json {
            guard let object = json.objectValue else {
                throw GraphFailure.badRequest(
                    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
                    code: "BadRequest")
            }
            body = object
        } else if let data = request.body, !data.isEmpty {
            guard let json = try? JSONCoding.decode(data), let object = json.objectValue else {
                throw GraphFailure.badRequest(
                    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
                    code: "BadRequest")
            }
            body = object
        }
    }

    /// Where `/v1.0` first occurs in `url` (a byte search: Foundation's `range(of:)` cost more than routing the request).
    private static func versionRoot(in url: Substring) -> Range<Substring.Index>? {
        let marker = "/v1.0".utf8
        var start = url.utf8.startIndex
        while let slash = url.utf8[start...].firstIndex(of: UInt8(ascii: "/")) {
            if url.utf8[slash...].starts(with: marker) { return slash..<url.utf8.index(slash, offsetBy: marker.count) }
            start = url.utf8.index(after: slash)
        }
        return nil
    }

    /// Percent-decoded text; most paths and values have nothing to decode, and Foundation's decoder is slow.
    private static func decoded(_ text: Substring) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        return text.removingPercentEncoding ?? String(text)
    }

    private static func segments(of path: String) -> [String] { path.split(separator: "/").map(String.init) }
}

/// A collection segment that may carry a key: `groups`, `groups(uniqueName='x')`, `servicePrincipals(appId='…')`.
struct CollectionSegment {
    var name: String
    var keyProperty: String?
    var keyValue: String?

    init(_ segment: String) throws(GraphFailure) {
        guard let open = segment.firstIndex(of: "("), segment.hasSuffix(")") else {
            name = segment
            return
        }
        name = String(segment[..<open])
        let inner = segment[segment.index(after: open)..<segment.index(before: segment.endIndex)]
        guard let equals = inner.firstIndex(of: "=") else {
            throw GraphFailure.badRequest("Invalid key segment \(segment).")
        }
        keyProperty = String(inner[..<equals])
        keyValue = try ODataLiteral.string(String(inner[inner.index(after: equals)...]))
    }
}

/// OData string literals.
enum ODataLiteral {
    /// `'O''Brien'` → `O'Brien`.
    static func string(_ literal: String) throws(GraphFailure) -> String {
        let trimmed = literal.trimmingCharacters(in: .whitespaces)
        guard trimmed.count >= 2, trimmed.hasPrefix("'"), trimmed.hasSuffix("'") else {
            throw GraphFailure.badRequest("Invalid OData literal \(literal).")
        }
        return String(trimmed.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'")
    }
}

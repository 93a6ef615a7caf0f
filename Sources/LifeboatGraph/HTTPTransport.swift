import Foundation
import LifeboatJSON

/// An HTTP request as the transport sends it: an absolute URL, headers and an optional body.
package struct HTTPRequest: Sendable, Hashable {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    package var method: String
    /// The absolute URL, already percent-encoded.
    package var url: String
    /// Header fields; names are compared case-insensitively by transports.
    package var headers: [String: String]
    /// The body bytes (JSON for Graph).
    package var body: Data?
    /// The body as a JSON value instead of bytes, for a transport that ``HTTPTransport/carriesJSONValues`` (in process):
    /// it is never written out and parsed back.
    package var json: JSONValue?
    /// Seconds before the transport gives up waiting for the response.
    package var timeout: Double

    package init(method: String, url: String, headers: [String: String] = [:], body: Data? = nil, timeout: Double = 100) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// `true` for methods that change the directory.
    package var isWrite: Bool { method != "GET" && method != "HEAD" }
}

/// An HTTP response: status, headers (lower-cased names) and body.
package struct HTTPResponse: Sendable, Hashable {
    package var status: Int
    /// Header fields with lower-cased names.
    package var headers: [String: String]
    package var body: Data
    /// The body as a JSON value, from a transport that ``HTTPTransport/carriesJSONValues``; then ``body`` is empty.
    package var json: JSONValue?
    /// When the server produced the answer, on the client's clock, if the transport knows (the in-process fake tenant
    /// stamps its simulated time); otherwise the client takes the time the response arrived. Retry-After counts from it.
    package var answeredAt: Date?

    package init(status: Int, headers: [String: String] = [:], body: Data = Data()) {
        self.status = status
        self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
        self.body = body
    }
}

/// Why a transport could not produce a response.
package enum TransportFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The connection failed before the request was sent: nothing reached the server.
    case notSent(String)
    /// The request was (or may have been) sent, but no response arrived: the outcome is unknown.
    case noResponse(String)

    package var description: String {
        switch self {
        case .notSent(let reason): return "request not sent: \(reason)"
        case .noResponse(let reason): return "no response (the request may have been applied): \(reason)"
        }
    }
}

/// Sends HTTP requests somewhere: a real tenant over libcurl, or a fake tenant in process.
///
/// The engine never knows which one it talks to.
package protocol HTTPTransport: Sendable {
    /// Sends one request and returns its response, or throws ``TransportFailure``.
    func send(_ request: HTTPRequest) async throws -> HTTPResponse

    /// Whether JSON bodies travel as values (``HTTPRequest/json``, ``HTTPResponse/json``) rather than bytes: only a
    /// transport that never leaves the process (the tabletop's fake tenant), where writing JSON out and parsing it back
    /// on both sides costs a tenth of a large rehearsal. Default: `false`.
    var carriesJSONValues: Bool { get }
}

extension HTTPTransport {
    package var carriesJSONValues: Bool { false }
}

/// Time as Lifeboat's Graph client sees it: wall time for live rebuilds, simulated time for tabletops.
package protocol GraphClock: Sendable {
    /// The current time.
    func now() async -> Date
    /// Waits for `seconds` (instantly, in simulated time).
    func sleep(seconds: Double) async throws
    /// Waits until `deadline`. Concurrent waiters for the same deadline wait once, which matters
    /// for a simulated clock: eight requests throttled together advance it by one Retry-After, not eight.
    func sleep(until deadline: Date) async throws
}

extension GraphClock {
    package func sleep(until deadline: Date) async throws {
        try await sleep(seconds: deadline.timeIntervalSince(await now()))
    }
}

/// The wall clock.
package struct SystemClock: GraphClock {
    package init() {}
    package func now() async -> Date { Date() }
    package func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }
}

import Foundation
import LifeboatJSON

/// A failed Graph call: Graph's error `code`, message and request-id, or a transport failure.
package struct GraphError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, by how the caller must react.
    package enum Kind: String, Sendable {
        /// Graph answered with an error status.
        case http
        /// The write may or may not have been applied (no response, or a 5xx after sending):
        /// the object must be looked up by its natural key before the write is tried again.
        case ambiguous
        /// Nothing reached Graph.
        case notSent
        /// Graph answered, but the body was not the JSON expected.
        case malformedResponse
        /// Lifeboat refused to send it (a path that is not a Graph resource path, e.g. with `..` segments): nothing
        /// was sent, and retrying cannot help.
        case refused
    }

    package var kind: Kind
    /// HTTP status, or 0 when there was no response.
    package var status: Int
    /// Graph's error code, e.g. `Request_ResourceNotFound`, `Request_BadRequest`, `TooManyRequests`.
    package var code: String
    /// Graph's message.
    package var message: String
    /// The `request-id` Graph returned, for a support case.
    package var requestID: String?
    /// The method of the failed request.
    package var method: String
    /// The path of the failed request, relative to the Graph version root.
    package var path: String
    /// Seconds Graph asked us to wait, if it said.
    package var retryAfter: Double?
    /// When the answer (or the failure) arrived, on the client's clock: a retry counts its wait from it.
    package var answeredAt: Date?

    package init(
        kind: Kind, status: Int, code: String, message: String, requestID: String? = nil,
        method: String, path: String, retryAfter: Double? = nil
    ) {
        self.kind = kind
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.method = method
        self.path = path
        self.retryAfter = retryAfter
    }

    /// `true` when Graph said the object is not there (yet): 404, or the 400 "objects being referenced do not exist".
    package var isNotFound: Bool {
        status == 404 || code == "Request_ResourceNotFound"
            || (status == 400
                && (message.localizedCaseInsensitiveContains("do not exist") || message.localizedCaseInsensitiveContains("does not exist")))
    }

    /// `true` when the request was refused because the object or link already exists.
    package var isAlreadyExists: Bool {
        message.localizedCaseInsensitiveContains("already exist")
    }

    /// `true` for throttling (429) and transient server errors.
    package var isTransient: Bool {
        status == 429 || status == 500 || status == 502 || status == 503 || status == 504 || kind == .notSent
    }

    package var description: String {
        var text: String
        switch kind {
        case .http, .malformedResponse:
            text = "Graph answered \(status) \(code) to \(method) \(path): \(message)"
        case .ambiguous:
            text = "\(method) \(path) got no usable answer (\(message)); it may have been applied"
        case .notSent:
            text = "\(method) \(path) could not be sent: \(message)"
        case .refused:
            text = "\(method) \(path) was not sent: \(message)"
        }
        if let requestID { text += " [request-id \(requestID)]" }
        return text
    }

    /// Parses Graph's `{"error": {"code", "message", "innerError": {"request-id"}}}` body.
    package static func from(response: HTTPResponse, method: String, path: String) -> GraphError {
        var code = "HTTP\(response.status)"
        var message = "HTTP status \(response.status)"
        var requestID = response.headers["request-id"] ?? response.headers["client-request-id"]
        if let body = response.json ?? (try? JSONCoding.decode(response.body)), let error = body["error"] {
            code = error["code"]?.stringValue ?? code
            message = error["message"]?.stringValue ?? message
            let inner = error["innerError"] ?? error["innererror"]
            requestID = inner?["request-id"]?.stringValue ?? requestID
        }
        let retryAfter = response.headers["retry-after"].flatMap(Double.init)
        return GraphError(
            kind: .http, status: response.status, code: code, message: message, requestID: requestID,
            method: method, path: path, retryAfter: retryAfter)
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON

/// A Graph error the fake answers with: status, Graph's `code` and message.
struct GraphFailure: Error {
    var status: Int
    var code: String
    var message: String
    var headers: [String: String] = [:]

    static func badRequest(_ message: String, code: String = "Request_BadRequest") -> GraphFailure {
        GraphFailure(status: 400, code: code, message: message)
    }

    static func notFound(_ id: String) -> GraphFailure {
        GraphFailure(
            status: 404, code: "Request_ResourceNotFound",
            message: "Resource '\(id)' does not exist or one of its queried reference-property objects are not present.")
    }

    static func unsupported(_ what: String) -> GraphFailure {
        GraphFailure(status: 400, code: "Request_UnsupportedQuery", message: "Unsupported Query. \(what)")
    }

    static func alreadyExists(_ property: String) -> GraphFailure {
        GraphFailure(
            status: 400, code: "Request_BadRequest",
            message: "Another object with the same value for property \(property) already exists.")
    }

    /// The HTTP response with Graph's error body and a fresh request-id.
    func response(requestID: String, date: String) -> HTTPResponse {
        let body: JSONValue = [
            "error": [
                "code": .string(code), "message": .string(message),
                "innerError": ["date": .string(date), "request-id": .string(requestID), "client-request-id": .string(requestID)],
            ]
        ]
        var headers = self.headers
        headers["Content-Type"] = "application/json"
        headers["request-id"] = requestID
        return HTTPResponse(status: status, headers: headers, body: (try? JSONCoding.encode(body)) ?? Data())
    }
}

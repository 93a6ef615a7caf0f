import Foundation
import LifeboatJSON

extension GraphClient {
    /// `GET` of a link Graph returned: an `@odata.nextLink` or an `@odata.deltaLink`, sent unchanged.
    ///
    /// The link must point at this client's own origin, so the bearer token never goes anywhere else.
    package func follow(_ link: String) async throws -> GraphResponse {
        guard Self.origin(of: link) == Self.origin(of: baseURL) else {
            throw GraphError(
                kind: .malformedResponse, status: 0, code: "UnexpectedLink",
                message: "the link points outside \(baseURL)", method: "GET", path: Redaction.redact(link))
        }
        let path = String(link.dropFirst(min(baseURL.count, link.count)))
        let request = GraphRequest("GET", path.isEmpty ? "/" : path)
        return try await send(request, url: link, cost: RequestCost.estimate(request))
    }

    /// The items of a page and the links that continue it.
    package struct Page: Sendable {
        package var items: [JSONObject]
        /// `@odata.nextLink`: more pages follow.
        package var nextLink: String?
        /// `@odata.deltaLink`: the last page of a delta round; keep it for the next round.
        package var deltaLink: String?

        package init(_ response: GraphResponse) {
            items = (response.object["value"]?.arrayValue ?? []).compactMap(\.objectValue)
            nextLink = response.object["@odata.nextLink"]?.stringValue
            deltaLink = response.object["@odata.deltaLink"]?.stringValue
        }
    }
}

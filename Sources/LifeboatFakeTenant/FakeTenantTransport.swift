import Foundation
import LifeboatGraph
import Synchronization

/// The in-process face of the fake tenant: an ``HTTPTransport`` that never leaves the process.
/// Lost responses (a profile fault) surface as ``TransportFailure/noResponse(_:)``, as a dropped connection would.
package struct FakeTenantTransport: HTTPTransport {
    package let tenant: FakeTenant
    /// Writes whose response is dropped after the fake applied them, counted across the transport's life.
    package let dropResponses: DroppedResponses?
    /// The app the requests are made as (throttling is per app per tenant).
    package let app: String

    package init(tenant: FakeTenant, dropResponses: DroppedResponses? = nil, app: String = "lifeboat") {
        self.tenant = tenant
        self.dropResponses = dropResponses
        self.app = app
    }

    /// The version root clients should use with this transport.
    package static let baseURL = "https://graph.fake-tenant.invalid/v1.0"

    /// JSON bodies travel as values: the client and the tenant share the process.
    package var carriesJSONValues: Bool { true }

    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        switch await tenant.reply(to: request, app: app, bodiesAsValues: true) {
        case .lostResponse:
            throw TransportFailure.noResponse("connection reset after the request was sent (injected fault)")
        case .response(let response):
            if request.isWrite, (200..<300).contains(response.status), let dropResponses, dropResponses.shouldDrop(request) {
                throw TransportFailure.noResponse("connection reset after the request was sent (injected fault)")
            }
            return response
        }
    }
}

/// Drops the response of every `every`-th successful write (optionally only of writes whose method and
/// URL match), after the tenant applied it: the ambiguous case a rebuild must reconcile.
package final class DroppedResponses: Sendable {
    private let every: Int
    private let method: String?
    private let pathContains: String?
    private let pathSuffix: String?
    private let counter = Mutex(0)

    /// `pathContains` matches anywhere in the URL; `pathSuffix` only at the end of its path (a collection, not its sub-resources).
    package init(every: Int, method: String? = nil, pathContains: String? = nil, pathSuffix: String? = nil) {
        self.every = max(1, every)
        self.method = method
        self.pathContains = pathContains
        self.pathSuffix = pathSuffix
    }

    func shouldDrop(_ request: HTTPRequest) -> Bool {
        if let method, request.method != method { return false }
        let url = request.url.removingPercentEncoding ?? request.url
        if let pathContains, !url.contains(pathContains) { return false }
        if let pathSuffix, !(url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url).hasSuffix(pathSuffix) { return false }
        return counter.withLock { count in
            count += 1
            return count % every == 0
        }
    }
}

import Foundation
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A fake tenant served over HTTP on 127.0.0.1, port 0, for one test: the one way tests start a served fake (the rigs of
/// the server, capture and live-rebuild tests wrap it).
///
/// Stop it before the test ends, awaited: `try await stopping(served) { served in … }` does that however the body ends.
/// ``stop()`` then checks that nothing listens on the port any more, so no server outlives its test unnoticed.
package struct ServedFakeTenant: TestStoppable {
    package let tenant: FakeTenant
    package let server: FakeTenantServer
    package let port: Int
    /// `http://127.0.0.1:<port>`: Graph under `/v1.0`, the token endpoint under `/{tenant}/oauth2/v2.0/token`.
    package var root: String { "http://127.0.0.1:\(port)" }

    /// Serves `tenant` with the registered applications.
    package static func start(
        _ tenant: FakeTenant, applications: [AppRegistration], tokenLifetime: Int = 3599,
        now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> ServedFakeTenant {
        let server = FakeTenantServer(tenant: tenant, applications: applications, tokenLifetime: tokenLifetime, now: now)
        let port = try await server.start()
        return ServedFakeTenant(tenant: tenant, server: server, port: port)
    }

    /// The OAuth2 token endpoint of the served tenant.
    package var tokenEndpoint: String { "\(root)/\(tenant.tenantID)/oauth2/v2.0/token" }

    /// Stops the server, waits until it has closed its socket, and records an issue if the port still accepts.
    package func stop() async {
        await server.stop()
        if LoopbackPort.accepts(port) { Issue.record("the served fake tenant still accepts connections on 127.0.0.1:\(port) after stop()") }
    }
}

/// Whether something accepts TCP connections on a loopback port.
package enum LoopbackPort {
    package static func accepts(_ port: Int) -> Bool {
        #if canImport(Glibc)
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0, let port = UInt16(exactly: port) else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

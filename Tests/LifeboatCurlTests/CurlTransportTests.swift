import Foundation
import LifeboatCurl
import LifeboatGraph
import LifeboatJSON
import LifeboatTestServer
import LifeboatTestSupport
import Testing

/// Every request in these tests goes to a server on 127.0.0.1 that the test started on port 0.
@Suite struct CurlTransportTests {
    @Test func getAndWritesRoundTripWithLowerCasedHeaders() async throws {
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        let user = try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/users/abc"))
        #expect(user.status == 200)
        #expect(user.headers["request-id"] != nil)
        #expect(user.headers["content-type"] == "application/json")
        #expect(try JSONCoding.decode(user.body)["id"]?.stringValue == "abc")

        for method in ["POST", "PATCH", "PUT", "DELETE"] {
            let body = try JSONCoding.encode(["displayName": "Lifeboat ✓", "n": 1] as JSONValue)
            let response = try await transport.send(
                HTTPRequest(
                    method: method, url: server.rootURL + "/v1.0/echo", headers: ["Content-Type": "application/json"], body: body))
            let echo = try JSONCoding.decode(response.body)
            #expect(echo["method"]?.stringValue == method)
            #expect(echo["contentType"]?.stringValue == "application/json")
            #expect(echo["body"]?["displayName"]?.stringValue == "Lifeboat ✓")
        }
        let empty = try await transport.send(HTTPRequest(method: "POST", url: server.rootURL + "/v1.0/echo"))
        #expect(try JSONCoding.decode(empty.body)["body"] == .null)
        await server.stop()
    }

    @Test func reusesOneConnectionForSequentialRequests() async throws {
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        for _ in 0..<40 {
            let response = try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/connection"))
            #expect(response.status == 200)
        }
        #expect(transport.connectionsOpened == 1)
        #expect(server.counters.clientPorts.count == 1)
        #expect(server.counters.graphRequests == 40)

        // Many at once: every one answered, over a bounded number of connections.
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<60 {
                group.addTask { try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/users/x")).status }
            }
            for try await status in group { #expect(status == 200) }
        }
        #expect(transport.connectionsOpened <= transport.configuration.maxConnectionsPerHost)
        await server.stop()
    }

    @Test func decompressesGzip() async throws {
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        let response = try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/compressed"))
        #expect(response.headers["content-encoding"] == "gzip")
        #expect(try JSONCoding.decode(response.body)["value"]?.arrayValue?.count == 50)
        #expect(server.counters.acceptEncodings.first?.contains("gzip") == true)
        await server.stop()
    }

    @Test func aTimeoutIsNoResponse() async throws {
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        // The slow route would answer 200 after 3 s: with a 0.5 s timeout the call fails as "no response" instead
        // (the POST may have been applied), however loaded the machine is.
        let error = await #expect(throws: TransportFailure.self) {
            _ = try await transport.send(HTTPRequest(method: "POST", url: server.rootURL + "/v1.0/slow", timeout: 0.5))
        }
        guard case .noResponse = error else {
            Issue.record("expected noResponse, got \(String(describing: error))")
            return
        }
        await server.stop()
    }

    @Test func aRefusedConnectionIsNotSent() async throws {
        let transport = try CurlTransport()
        // Nothing listens on port 1 of the loopback interface.
        let error = await #expect(throws: TransportFailure.self) {
            _ = try await transport.send(HTTPRequest(method: "POST", url: "http://127.0.0.1:1/v1.0/users", timeout: 5))
        }
        guard case .notSent = error else {
            Issue.record("expected notSent, got \(String(describing: error))")
            return
        }
    }

    @Test(arguments: [
        "http://192.0.2.10/v1.0/users", "http://graph.microsoft.com/v1.0/users", "ftp://127.0.0.1/x", "http://127.0.0.1.example.com/x",
        "users",
    ])
    func refusesPlainHTTPToAnyOtherHostBeforeSending(_ url: String) async throws {
        let transport = try CurlTransport()
        await #expect(throws: TransportRefusal.self) {
            _ = try await transport.send(HTTPRequest(method: "POST", url: url, body: Data("{}".utf8)))
        }
        // Refused before sending: no connection was ever opened.
        #expect(transport.connectionsOpened == 0)
    }

    @Test func loopbackHosts() {
        for host in ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "::1", "[::1]"] {
            #expect(CurlTransport.isLoopback(host: host), "\(host)")
        }
        for host in ["128.0.0.1", "127.0.0.1.nip.io", "10.0.0.1", "localhost.example", "::2", "1270.0.0.1"] {
            #expect(!CurlTransport.isLoopback(host: host), "\(host)")
        }
    }

    @Test func aTLSFailureIsNotSentAndVerificationCannotBeSkipped() async throws {
        // The test server speaks plain HTTP: the TLS handshake fails before any request is sent.
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        let error = await #expect(throws: TransportFailure.self) {
            _ = try await transport.send(HTTPRequest(method: "POST", url: "https://127.0.0.1:\(server.port)/v1.0/echo", timeout: 5))
        }
        guard case .notSent = error else {
            Issue.record("expected notSent, got \(String(describing: error))")
            return
        }
        #expect(throws: TransportRefusal.self) { _ = try CurlTransport(configuration: .init(caBundlePath: "/nonexistent/ca.pem")) }
        await server.stop()
    }

    @Test func cancellingTheCallerEndsTheTransfer() async throws {
        let server = try await GraphTestServer.start()
        let transport = try CurlTransport()
        let task = Task { try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/slow", timeout: 30)) }
        // Cancelled once the server has the request, i.e. while the transfer is in flight.
        for await _ in server.slowRequestsStarted { break }
        task.cancel()
        let result = await task.result
        // The slow route would answer 200 after 3 s: a cancelled call ends with a failure instead of that answer,
        // however long a loaded machine took to get here.
        #expect(throws: TransportFailure.self) { _ = try result.get() }
        // The transport keeps working afterwards.
        #expect(try await transport.send(HTTPRequest(method: "GET", url: server.rootURL + "/v1.0/users/a")).status == 200)
        await server.stop()
    }

    @Test func aClosedTransportSendsNothing() async throws {
        let transport = try CurlTransport()
        transport.close()
        let error = await #expect(throws: TransportFailure.self) {
            _ = try await transport.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/"))
        }
        guard case .notSent = error else {
            Issue.record("expected notSent, got \(String(describing: error))")
            return
        }
    }
}

/// TLS against `openssl s_server` on 127.0.0.1 with a certificate made for the test.
@Suite struct CurlTLSTests {
    static let openssl = "/usr/bin/openssl"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: openssl)))
    func verifiesThePeerAndTrustsOnlyTheConfiguredBundle() async throws {
        let directory = try TemporaryDirectory("tls")
        let key = directory.path("key.pem"), certificate = directory.path("cert.pem")
        let generate = try await runLifeboat(
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            in: directory, executable: URL(fileURLWithPath: Self.openssl))
        #expect(generate.status == 0, "\(generate.stderr)")

        // `openssl s_server` ignores SIGTERM: withChildProcess kills it, awaits it and checks it is gone before the test ends.
        try await withChildProcess(
            ["s_server", "-accept", "127.0.0.1:0", "-cert", certificate, "-key", key, "-www"],
            executable: URL(fileURLWithPath: Self.openssl), in: directory
        ) { server in
            // Polls the child's output for its port (at most 5 s): how long openssl takes to start is not under the test's control.
            var port: Int?
            for _ in 0..<500 where port == nil && server.isRunning {
                port = server.output.split(separator: "\n").first { $0.hasPrefix("ACCEPT ") }.flatMap { $0.split(separator: ":").last }
                    .flatMap { Int($0) }
                if port == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let url = "https://127.0.0.1:\(try #require(port))/"

            let untrusting = try CurlTransport()
            let error = await #expect(throws: TransportFailure.self) {
                _ = try await untrusting.send(HTTPRequest(method: "GET", url: url, timeout: 5))
            }
            guard case .notSent(let reason) = error else {
                Issue.record("expected notSent, got \(String(describing: error))")
                return
            }
            #expect(reason.lowercased().contains("certificate"))

            let trusting = try CurlTransport(configuration: .init(caBundlePath: certificate))
            let response = try await trusting.send(HTTPRequest(method: "GET", url: url, timeout: 5))
            #expect(response.status == 200)
        }
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON
import Synchronization
import Testing

/// A transport that answers from a script and records what it was asked.
final class ScriptedTransport: HTTPTransport, Sendable {
    private let script: Mutex<[Result<HTTPResponse, TransportFailure>]>
    private let seen = Mutex<[HTTPRequest]>([])

    init(_ script: [Result<HTTPResponse, TransportFailure>]) {
        self.script = Mutex(script)
    }

    var requests: [HTTPRequest] { seen.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        seen.withLock { $0.append(request) }
        let next = script.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        guard let next else { return HTTPResponse(status: 500) }
        return try next.get()
    }
}

/// A clock that records waits instead of sleeping.
final class RecordingClock: GraphClock, Sendable {
    private let waits = Mutex<[Double]>([])
    var recorded: [Double] { waits.withLock { $0 } }
    func now() async -> Date { Date(timeIntervalSince1970: 0) }
    func sleep(seconds: Double) async throws { waits.withLock { $0.append(seconds) } }
}

func json(_ status: Int, _ body: JSONValue, headers: [String: String] = [:]) -> Result<HTTPResponse, TransportFailure> {
    .success(HTTPResponse(status: status, headers: headers, body: try! JSONCoding.encode(body)))
}

func graphError(_ status: Int, _ code: String, headers: [String: String] = [:]) -> Result<HTTPResponse, TransportFailure> {
    json(status, ["error": ["code": .string(code), "message": "m", "innerError": ["request-id": "rid-1"]]], headers: headers)
}

@Suite struct GraphClientTests {
    @Test func honoursRetryAfterOnThrottlingAndThenSucceeds() async throws {
        let transport = ScriptedTransport([graphError(429, "TooManyRequests", headers: ["Retry-After": "7"]), json(201, ["id": "x"])])
        let clock = RecordingClock()
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: clock)
        let response = try await client.send(GraphRequest("POST", "/users", body: ["displayName": "a"]))
        #expect(response.object["id"]?.stringValue == "x")
        #expect(clock.recorded == [7])
        #expect(transport.requests.count == 2)
        #expect(transport.requests[0].headers["x-ms-throttle-priority"] == "High")
    }

    @Test func aWriteWithoutAnAnswerIsAmbiguousAndNotRetried() async throws {
        for failure in [Result<HTTPResponse, TransportFailure>.failure(.noResponse("reset")), graphError(504, "GatewayTimeout")] {
            let transport = ScriptedTransport([failure, json(201, ["id": "dup"])])
            let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
            let error = await #expect(throws: GraphError.self) { _ = try await client.send(GraphRequest("POST", "/users", body: [:])) }
            #expect(error?.kind == .ambiguous)
            #expect(transport.requests.count == 1)
        }
    }

    @Test func readsRetryTransientFailures() async throws {
        let transport = ScriptedTransport([graphError(503, "ServiceUnavailable"), .failure(.noResponse("reset")), json(200, ["value": []])])
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
        #expect(try await client.list("/users").isEmpty)
        #expect(transport.requests.count == 3)
    }

    @Test func errorsCarryGraphCodeAndRequestID() async throws {
        let transport = ScriptedTransport([graphError(400, "Request_BadRequest")])
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
        let error = await #expect(throws: GraphError.self) { _ = try await client.get("/users/x") }
        #expect(error?.code == "Request_BadRequest")
        #expect(error?.requestID == "rid-1")
        #expect(error?.description.contains("[request-id rid-1]") == true)
    }

    @Test func followsNextLinksUnchangedThroughEmptyPages() async throws {
        let transport = ScriptedTransport([
            json(200, ["value": [["id": "1"]], "@odata.nextLink": "https://graph.example/v1.0/users?$skiptoken=abc%3D"]),
            json(200, ["value": [], "@odata.nextLink": "https://graph.example/v1.0/users?$skiptoken=def"]),
            json(200, ["value": [["id": "2"]]]),
        ])
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
        let first = try await client.list("/users")
        #expect(first.map { $0["id"]?.stringValue } == ["1", "2"])
        #expect(transport.requests[1].url == "https://graph.example/v1.0/users?$skiptoken=abc%3D")
    }

    @Test func encodesODataLiteralsAndGuestUPNs() {
        let url = GraphClient.encode(
            path: "/groups(uniqueName='a b')",
            query: [
                QueryItem("$filter", "userPrincipalName eq \(GraphClient.literal("o'neil_x.com#EXT#@t.onmicrosoft.com"))")
            ])
        #expect(url == "/groups(uniqueName='a%20b')?$filter=userPrincipalName%20eq%20'o''neil_x.com%23EXT%23@t.onmicrosoft.com'")
    }

    @Test func escapesNonASCIIAndQuerySeparatorsAsUTF8Bytes() {
        // Foundation's alphanumerics are Unicode letters: "é" would have gone out raw.
        #expect(
            GraphClient.encode(path: "/users/renée@contoso.com", query: [QueryItem("$search", "\"a+b&c=d\"")])
                == "/users/ren%C3%A9e@contoso.com?$search=%22a%2Bb%26c%3Dd%22")
        #expect(GraphClient.encode(path: "/users", query: []) == "/users")
    }
}

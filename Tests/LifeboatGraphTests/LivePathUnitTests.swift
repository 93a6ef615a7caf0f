import Foundation
import LifeboatGraph
import LifeboatJSON
import Synchronization
import Testing

/// Simulated time: sleeping advances the clock at once.
final class SimulatedClock: GraphClock, Sendable {
    private let current = Mutex<Double>(0)
    var elapsed: Double { current.withLock { $0 } }
    func now() async -> Date { Date(timeIntervalSince1970: current.withLock { $0 }) }
    func sleep(seconds: Double) async throws { current.withLock { $0 += max(0, seconds) } }
}

@Suite struct RedactionTests {
    @Test(arguments: [
        ("Authorization: Bearer eyJ0eXAi.eyJhdWQi.c2lnbmF0dXJl", "eyJ0eXAi"),
        ("client_id=app&client_secret=s3cr3t~X.y&scope=https%3A%2F%2Fgraph", "s3cr3t"),
        ("client_assertion_type=urn%3Aietf&client_assertion=eyJhbGciOi.eyJhdWQi.sig&grant_type=client_credentials", "eyJhbGciOi"),
        (#"{"token_type":"Bearer","expires_in":3599,"access_token":"tok-abc.def"}"#, "tok-abc"),
        (#"{"passwordProfile": {"password": "P@ss\"word1", "forceChangePasswordNextSignIn": true}}"#, "P@ss"),
        (#"{"newPassword":"n3w","currentPassword":"0ld"}"#, "n3w"),
    ])
    func masksSecrets(_ text: String, _ secret: String) {
        let redacted = Redaction.redact(text)
        #expect(!redacted.contains(secret), "\(redacted)")
        #expect(redacted.contains(Redaction.mask))
    }

    /// Every secret-bearing property, as Graph returns it in a body logged with `--log-bodies`.
    @Test(arguments: Redaction.secretFields + Redaction.secretContainers)
    func masksEverySecretPropertyOfABody(_ name: String) throws {
        let secret = "S3cret-\(name)-value"
        let body: JSONValue = [
            "value": [["id": "1", "displayName": "kept", name: .string(secret)]],
            "nested": ["deeper": [name: ["key": "k", "value": .string(secret)]]],
        ]
        let logged = Redaction.redact(body: try JSONCoding.encode(body))
        #expect(!logged.contains(secret), "\(logged)")
        #expect(logged.contains("kept"))
        // The same property in text that is not JSON (an error message, a truncated body).
        #expect(!Redaction.redact(#"... "\#(name)": "\#(secret)" ..."#).contains(secret))
    }

    @Test func masksTheTemporaryAccessPassOfAGraphAnswer() {
        let answer = #"{"@odata.context":"x","id":"6f1d","temporaryAccessPass":"TAPRocks!","lifetimeInMinutes":60,"isUsableOnce":false}"#
        let logged = Redaction.redact(body: Data(answer.utf8))
        #expect(!logged.contains("TAPRocks"))
        #expect(logged.contains("\"lifetimeInMinutes\":60"))
    }

    @Test func keepsWhatIsNotSecret() {
        let text = #"{"displayName":"Adele","passwordPolicies":"DisablePasswordExpiration"} client_id=app&scope=x"#
        #expect(Redaction.redact(text) == text)
        #expect(
            Redaction.redact(headers: ["authorization": "Bearer x", "Accept": "application/json"]) == [
                "authorization": Redaction.mask, "Accept": "application/json",
            ])
    }
}

@Suite struct GraphEndpointsTests {
    @Test(arguments: [
        ("global", "https://login.microsoftonline.com", "https://graph.microsoft.com"),
        ("usgov", "https://login.microsoftonline.us", "https://graph.microsoft.us"),
        ("usgov-dod", "https://login.microsoftonline.us", "https://dod-graph.microsoft.us"),
        ("china", "https://login.chinacloudapi.cn", "https://microsoftgraph.chinacloudapi.cn"),
    ])
    func nationalClouds(_ name: String, _ authority: String, _ graph: String) throws {
        let cloud = try #require(GraphCloud(rawValue: name))
        let endpoints = GraphEndpoints(cloud: cloud)
        #expect(endpoints.authorityURL == authority)
        #expect(endpoints.baseURL == graph + "/v1.0")
        #expect(endpoints.scope == graph + "/.default")
        #expect(endpoints.tokenURL(tenant: "contoso.onmicrosoft.com") == authority + "/contoso.onmicrosoft.com/oauth2/v2.0/token")
    }

    @Test func explicitURLsOverrideTheCloud() {
        let endpoints = GraphEndpoints(cloud: .china, graphURL: "https://graph.example/", authorityURL: "https://login.example//")
        #expect(endpoints.baseURL == "https://graph.example/v1.0")
        #expect(endpoints.tokenURL(tenant: "t") == "https://login.example/t/oauth2/v2.0/token")
    }
}

@Suite struct ThroughputGovernorTests {
    /// In simulated time, 400 writes against 20 per 10 s never put more than 20 in any 10 s window.
    @Test func staysUnderTheWriteQuotaInEveryWindow() async throws {
        let clock = SimulatedClock()
        let governor = ThroughputGovernor(configuration: .init(writes: .init(limit: 20, window: 10)), clock: clock)
        var admitted: [Double] = []
        for _ in 0..<400 {
            try await governor.admit(RequestCost(resourceUnits: 1, writes: 1))
            admitted.append(clock.elapsed)
        }
        var busiest = 0
        for (index, start) in admitted.enumerated() {
            busiest = max(busiest, admitted[index...].prefix { $0 < start + 10 }.count)
        }
        #expect(busiest <= 20)
        // ...and uses most of it: 400 writes at 18 per 10 s take about 222 s.
        #expect(clock.elapsed < 240)
    }

    @Test func a429PausesEveryoneAndSlowsDownThenRecovers() async throws {
        let clock = SimulatedClock()
        let governor = ThroughputGovernor(configuration: .init(resourceUnits: .init(limit: 1000, window: 10)), clock: clock)
        try await governor.admit(RequestCost(resourceUnits: 1, writes: 0))
        await governor.observe(status: 429, headers: ["retry-after": "7"], estimated: RequestCost(resourceUnits: 1, writes: 0))
        await governor.observe(status: 429, headers: ["retry-after": "7"], estimated: RequestCost(resourceUnits: 1, writes: 0))
        #expect(await governor.statistics.factor == 0.5)  // once per pause, not once per 429
        let before = clock.elapsed
        try await governor.admit(RequestCost(resourceUnits: 1, writes: 0))
        #expect(clock.elapsed - before >= 7)
        for _ in 0..<30 {
            await governor.observe(status: 200, headers: [:], estimated: RequestCost(resourceUnits: 1, writes: 0))
        }
        #expect(await governor.statistics.factor == 1)
        await governor.observe(
            status: 200, headers: ["x-ms-throttle-limit-percentage": "0.95"], estimated: RequestCost(resourceUnits: 1, writes: 0))
        #expect(await governor.statistics.factor < 1)
    }

    @Test func estimatesResourceUnitsAsGraphDocumentsThem() {
        #expect(RequestCost.estimate(GraphRequest("POST", "/users")) == RequestCost(resourceUnits: 1, writes: 1))
        #expect(RequestCost.estimate(GraphRequest("GET", "/users")).resourceUnits == 2)
        #expect(RequestCost.estimate(GraphRequest("GET", "/users", query: [QueryItem("$select", "id")])).resourceUnits == 1)
        #expect(RequestCost.estimate(GraphRequest("GET", "/groups/0b6a0b3c-1a2b-4c5d-8e9f-001122334455/members")).resourceUnits == 3)
        #expect(RequestCost.estimate(GraphRequest("GET", "/groups/x/transitiveMembers")).resourceUnits == 5)
    }

    @Test func theClientConsultsTheGovernorAndWaitsOnItsClock() async throws {
        let clock = SimulatedClock()
        let transport = ScriptedTransport(
            [graphError(429, "TooManyRequests", headers: ["Retry-After": "5"])] + Array(repeating: json(201, ["id": "x"]), count: 10))
        let governor = ThroughputGovernor(configuration: .init(writes: .init(limit: 10, window: 10)), clock: clock)
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: clock, governor: governor)
        for _ in 0..<10 { _ = try await client.send(GraphRequest("POST", "/users", body: [:])) }
        #expect(transport.requests.count == 11)
        #expect(await governor.statistics.throttled == 1)
        #expect(clock.elapsed >= 5)
    }
}

@Suite struct ReplicationLagTests {
    @Test func notFoundIsRetriedOnlyForObjectsThisRunCreated() async throws {
        let notFound = graphError(404, "Request_ResourceNotFound")
        let transport = ScriptedTransport([notFound, notFound, json(204, [:]), notFound])
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
        var created = GraphRequest("POST", "/groups/g/members/$ref", body: ["@odata.id": "https://graph.example/v1.0/directoryObjects/new"])
        created.awaitsReplication = true
        _ = try await client.send(created)
        #expect(transport.requests.count == 3)
        let unknown = GraphRequest("POST", "/groups/g/members/$ref", body: ["@odata.id": "https://graph.example/v1.0/directoryObjects/old"])
        await #expect(throws: GraphError.self) { _ = try await client.send(unknown) }
        #expect(transport.requests.count == 4)
    }

    @Test func aNextLinkToAnotherHostIsRefused() async throws {
        let transport = ScriptedTransport([json(200, ["value": [], "@odata.nextLink": "https://attacker.example/v1.0/users?$skiptoken=x"])])
        let client = GraphClient(baseURL: "https://graph.example/v1.0", transport: transport, clock: RecordingClock())
        let error = await #expect(throws: GraphError.self) { _ = try await client.list("/users") }
        #expect(error?.code == "UnexpectedNextLink")
        #expect(transport.requests.count == 1)
    }
}

import Foundation
import LifeboatCapture
import LifeboatCurl
import LifeboatFakeServer
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatServedFake
import LifeboatSnapshot
import LifeboatTestServer
import LifeboatTestSupport
import Synchronization
import Testing

/// The Contoso example loaded (with its original ids) into a fake tenant served on 127.0.0.1, port 0,
/// with one registered application, and a libcurl client signed in to it.
struct CaptureRig: TestStoppable {
    static let clientID = "0c4d0a8e-5f0b-4f4c-9a61-7c1f1d1e2a01"
    static let secret = "capture-test-secret~" + UUID().uuidString

    let directory: TemporaryDirectory
    let source: Snapshot
    let served: ServedFakeTenant
    let transport: CurlTransport
    /// The token endpoint's, the token cache's and the client's clock, when the test moves time itself.
    let clock: VirtualClock?
    var tenant: FakeTenant { served.tenant }
    var server: FakeTenantServer { served.server }
    var root: String { served.root }

    static func start(certificate: TestCertificate? = nil, tokenLifetime: Int = 3599, clock: VirtualClock? = nil) async throws -> CaptureRig
    {
        let directory = try TemporaryDirectory("capture")
        let source = try Snapshot.load(from: Fixtures.contoso)
        let tenant = try FakeTenant(
            stateFile: nil, tenantID: source.manifest.sourceTenantId,
            initialDomain: try #require(source.manifest.sourceInitialDomain), profile: .fast)
        try await tenant.importSnapshot(source)
        let certificates = try certificate.map { [try RegisteredCertificate(pem: $0.certificatePEM)] } ?? []
        let served = try await ServedFakeTenant.start(
            tenant, applications: [AppRegistration(clientID: clientID, secrets: [secret], certificates: certificates)],
            tokenLifetime: tokenLifetime,
            now: { clock?.instant ?? Date() })
        return CaptureRig(directory: directory, source: source, served: served, transport: try CurlTransport(), clock: clock)
    }

    func stop() async {
        await served.stop()
    }

    var endpoints: GraphEndpoints { GraphEndpoints(graphURL: root, authorityURL: root) }

    func credentials(_ credential: ClientCredentials.Credential) -> ClientCredentials {
        ClientCredentials(
            tenant: tenant.tenantID, clientID: Self.clientID, credential: credential, endpoints: endpoints, transport: transport,
            clock: clock ?? SystemClock())
    }

    func secretCredentials() throws -> ClientCredentials {
        credentials(.secret(try .environment("CAPTURE_SECRET", in: ["CAPTURE_SECRET": Self.secret])))
    }

    /// A Graph client over `transport` (libcurl unless a test wraps it).
    func client(tokens: ClientCredentials, transport: (any HTTPTransport)? = nil) -> GraphClient {
        GraphClient(
            baseURL: endpoints.baseURL, transport: transport ?? self.transport, clock: clock ?? SystemClock(), tokens: tokens,
            retry: RetryPolicy(maxTransientAttempts: 3, initialBackoff: 0.01, maxBackoff: 0.05))
    }

    func capture(
        _ client: GraphClient, into name: String, base: URL? = nil, signingKey: SnapshotSigningKey? = nil,
        progress: ProgressLog = ProgressLog()
    ) async throws -> Snapshot {
        let output = directory.url.appendingPathComponent(name)
        let capture = SnapshotCapture(graph: client) { progress.append($0) }
        _ = try await capture.capture(CaptureOptions(output: output, base: base, signingKey: signingKey, toolVersion: "lifeboat tests"))
        return try Snapshot.load(from: output)
    }
}

/// Progress lines a capture reported.
final class ProgressLog: Sendable {
    private let lines = Mutex<[CaptureProgress]>([])
    var all: [CaptureProgress] { lines.withLock { $0 } }
    func append(_ line: CaptureProgress) { lines.withLock { $0.append(line) } }
    func line(_ type: ObjectType) -> CaptureProgress? { all.first { $0.type == type } }
}

/// A transport that moves a simulated clock on every request (a slow tenant, in simulated time), fails every request
/// after a number of them, or holds one request until the caller is cancelled (telling the test it got there).
final class ScriptedTransport: HTTPTransport {
    let inner: any HTTPTransport
    let clock: VirtualClock?
    let step: Double
    let failAfter: Int?
    let holdAt: Int?
    let sent = Mutex<Int>(0)
    /// Yields once, when the held request is reached.
    let held: AsyncStream<Void>
    private let reached: AsyncStream<Void>.Continuation
    private let release = Mutex<CheckedContinuation<Void, Never>?>(nil)

    init(_ inner: any HTTPTransport, advancing clock: VirtualClock? = nil, by step: Double = 0, failAfter: Int? = nil, holdAt: Int? = nil) {
        self.inner = inner
        self.clock = clock
        self.step = step
        self.failAfter = failAfter
        self.holdAt = holdAt
        (held, reached) = AsyncStream.makeStream(of: Void.self)
    }

    var count: Int { sent.withLock { $0 } }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let number = sent.withLock { count -> Int in
            count += 1
            return count
        }
        if let failAfter, number > failAfter { throw TransportFailure.notSent("connection refused (test)") }
        clock?.advance(by: step)
        if number == holdAt {
            // Suspended until the caller's task is cancelled; no time passes.
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    release.withLock { $0 = continuation }
                    reached.yield()
                    if Task.isCancelled { release.withLock { $0.take() }?.resume() }
                }
            } onCancel: {
                release.withLock { $0.take() }?.resume()
            }
            try Task.checkCancellation()
        }
        return try await inner.send(request)
    }
}

/// How two snapshots differ, object by object and property by property, ignoring what does not matter
/// to a restore: the order of objects and of relationship lists, a property that is `null` in one and
/// absent in the other, an empty relationship list and an absent one, and the display names Graph adds
/// to references.
enum SnapshotComparison {
    static let relationships: Set<String> = ["members", "owners", "federatedIdentityCredentials"]

    /// `extras` says which objects only `captured` may hold (the tenant's own built-ins).
    static func differences(_ expected: Snapshot, _ captured: Snapshot, extras: (ObjectType, JSONObject) -> Bool = { _, _ in false })
        -> [String]
    {
        var problems: [String] = []
        for type in ObjectType.allCases {
            let left = objects(expected, type), right = objects(captured, type)
            for (id, object) in left {
                guard let other = right[id] else {
                    problems.append("\(type.rawValue) \(id) missing from the capture")
                    continue
                }
                problems += compare(object, other).map { "\(type.rawValue) \(id) (\(object["displayName"]?.stringValue ?? "")): \($0)" }
            }
            for (id, object) in right where left[id] == nil && !extras(type, object) {
                problems.append("\(type.rawValue) \(id) (\(object["displayName"]?.stringValue ?? "")) only in the capture")
            }
        }
        return problems.sorted()
    }

    static func objects(_ snapshot: Snapshot, _ type: ObjectType) -> [String: JSONObject] {
        let list: [JSONObject]
        switch type {
        case .organization: list = snapshot.organization.map(\.properties)
        case .domain: list = snapshot.domains.map(\.properties)
        case .user: list = snapshot.users.map(\.properties)
        case .group: list = snapshot.groups.map(\.properties)
        case .administrativeUnit: list = snapshot.administrativeUnits.map(\.properties)
        case .application: list = snapshot.applications.map(\.properties)
        case .servicePrincipal: list = snapshot.servicePrincipals.map(\.properties)
        case .appRoleAssignment: list = snapshot.appRoleAssignments.map(\.properties)
        case .oauth2PermissionGrant: list = snapshot.oauth2PermissionGrants.map(\.properties)
        case .roleDefinition: list = snapshot.roleDefinitions.map(\.properties)
        case .roleAssignment: list = snapshot.roleAssignments.map(\.properties)
        case .namedLocation: list = snapshot.namedLocations.map(\.properties)
        case .conditionalAccessPolicy: list = snapshot.conditionalAccessPolicies.map(\.properties)
        }
        return Dictionary(list.map { ($0["id"]?.stringValue ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func compare(_ left: JSONObject, _ right: JSONObject) -> [String] {
        var problems: [String] = []
        for key in Set(left.keys).union(right.keys).sorted() {
            let a = left[key] ?? .null, b = right[key] ?? .null
            if relationships.contains(key) {
                let ids = { (value: JSONValue) in
                    Set(
                        (value.arrayValue ?? []).map {
                            "\($0["@odata.type"]?.stringValue ?? "")|\($0["id"]?.stringValue ?? JSONCoding.string($0))"
                        })
                }
                if ids(a) != ids(b) { problems.append("\(key): \(ids(a).sorted()) ≠ \(ids(b).sorted())") }
            } else if key == "manager" {
                if a["id"] != b["id"] || a["@odata.type"] != b["@odata.type"] {
                    problems.append("manager: \(JSONCoding.string(a)) ≠ \(JSONCoding.string(b))")
                }
            } else if a != b {
                problems.append("\(key): \(JSONCoding.string(a)) ≠ \(JSONCoding.string(b))")
            }
        }
        return problems
    }
}

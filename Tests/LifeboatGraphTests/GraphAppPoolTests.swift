import Foundation
import LifeboatGraph
import Testing

/// Several app registrations: how they are named on the command line (never with a secret's value), and how the
/// governor shares Graph's per-app and per-tenant write windows among them (throttling-limits.md).
@Suite struct GraphAppPoolTests {
    @Test(arguments: [
        ("id-2,secret-env=APP2_SECRET", GraphAppRegistration.CredentialSource.secretEnvironment("APP2_SECRET")),
        ("id-2, secret-file=/run/keys/app2", .secretFile("/run/keys/app2")),
        ("id-2,certificate=app2.pem,private-key=app2.key", .certificate(certificate: "app2.pem", privateKey: "app2.key")),
        ("id-2,private-key=app2.key,certificate=app2.pem", .certificate(certificate: "app2.pem", privateKey: "app2.key")),
    ])
    func parsesWhereTheCredentialIs(_ text: String, _ source: GraphAppRegistration.CredentialSource) throws {
        let app = try GraphAppRegistration(parsing: text)
        #expect(app.clientID == "id-2")
        #expect(app.source == source)
    }

    @Test(arguments: [
        "", ",secret-env=X", "id-2", "id-2,secret=s3cr3t-value", "id-2,s3cr3t-value", "id-2,secret-env=A,secret-file=B",
        "id-2,certificate=c.pem", "id-2,secret-env=", "id-2,secret-env=A,secret-env=B",
    ])
    func refusesWithoutEchoingValues(_ text: String) {
        let error = #expect(throws: CredentialError.self) { try GraphAppRegistration(parsing: text) }
        #expect(error?.description.contains("s3cr3t-value") == false)
    }

    @Test func theSecretIsReadFromWhereItIsNamed() throws {
        let app = try GraphAppRegistration(parsing: "id-2,secret-env=APP2_SECRET")
        guard case .secret = try app.credential(environment: ["APP2_SECRET": "value-from-env"]) else {
            Issue.record("not a secret")
            return
        }
        #expect(!app.description.contains("value-from-env"))
        #expect(throws: (any Error).self) { try app.credential(environment: [:]) }
    }

    /// Four apps: each has its own 3,000-per-150 s window (95 % of it used), so 11,400 writes go at once, spread evenly;
    /// the tenant's 18,000 per 300 s (95 %: 17,100) lets 5,700 more go when the app windows reopen, then binds.
    @Test func theGovernorSpreadsWritesOverTheAppsUpToTheTenantsWindow() async throws {
        let clock = ManualClock()
        let governor = ThroughputGovernor(configuration: .init(resourceUnits: .init(limit: 100_000, window: 10), apps: 4), clock: clock)
        var perApp = [0, 0, 0, 0]
        for _ in 0..<11_400 { perApp[try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"])] += 1 }
        #expect(perApp == [2_850, 2_850, 2_850, 2_850])
        #expect(clock.elapsed == 0)
        for _ in 0..<5_700 { _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"]) }
        #expect(clock.elapsed == 150)
        _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"])
        #expect(clock.elapsed == 300)
        #expect(await governor.statistics.waitedByLimit["tenantWrites"] == 150)
    }

    /// One app cannot overfill the tenant's window (3,000 per 150 s is at most 6,000 per 300 s, against 18,000), so no
    /// wait is ever booked to it, also after 429s lowered the share of every quota: the tenant window, which remembers
    /// 300 s of writes admitted at the full share, used to hold the next writes back beyond the app's own window.
    @Test func oneAppNeverWaitsForTheTenantsWindow() async throws {
        let clock = ManualClock()
        let governor = ThroughputGovernor(configuration: .init(resourceUnits: .init(limit: 100_000, window: 10), apps: 1), clock: clock)
        for _ in 0..<2_850 { _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"]) }
        #expect(clock.elapsed == 0)
        for _ in 0..<2_850 { _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"]) }
        #expect(clock.elapsed == 150)
        // Three 429s, each after the previous pause: an eighth of each quota (app 356 per 150 s; tenant 2,137 per 300 s,
        // below the 5,700 writes its window holds).
        for _ in 0..<3 {
            await governor.throttled(retryAfter: 1)
            try await clock.sleep(seconds: 2)
        }
        #expect(await governor.statistics.factor == 0.125)
        _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"])
        // The app's window holds the 2,850 writes of 150 s until 300 s: the write waits for it, and no longer.
        #expect(clock.elapsed == 300)
        let waited = await governor.statistics.waitedByLimit
        #expect(waited["tenantWrites"] == nil, "\(waited)")
        #expect(waited["writes", default: 0] > 0)
    }

    /// Four apps can overfill it: the tenant's window still binds (``theGovernorSpreadsWritesOverTheAppsUpToTheTenantsWindow``),
    /// and three cannot (18,000 per 300 s between them at most).
    @Test func theTenantsWindowHoldsOnlyWhenTheAppsCanOverfillIt() async throws {
        for (apps, binds) in [(3, false), (4, true)] {
            let clock = ManualClock()
            let governor = ThroughputGovernor(
                configuration: .init(resourceUnits: .init(limit: 1_000_000, window: 10), apps: apps), clock: clock)
            for _ in 0..<(apps * 2_850 * 2 + 1) {
                _ = try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), paths: ["/users"])
            }
            #expect((await governor.statistics.waitedByLimit["tenantWrites"] != nil) == binds, "\(apps) apps")
        }
    }
}

/// A clock that moves only when slept on.
private final class ManualClock: GraphClock, @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_000_000)
    private let start = Date(timeIntervalSince1970: 1_000_000)

    var elapsed: Double { lock.withLock { current.timeIntervalSince(start) } }
    func now() async -> Date { lock.withLock { current } }
    func sleep(until deadline: Date) async throws { lock.withLock { current = max(current, deadline) } }
    func sleep(seconds: Double) async throws { lock.withLock { current = current.addingTimeInterval(seconds) } }
}

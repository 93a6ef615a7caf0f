import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import Testing

/// The governor against Graph's quota windows and per-endpoint limits (throttling-limits.md), on the fake tenant's
/// virtual clock: sleeping moves the clock, nothing waits in real time.
@Suite struct GovernorWindowTests {
    func realistic() throws -> (FakeTenant, VirtualClock) {
        let clock = VirtualClock()
        let tenant = try FakeTenant(
            stateFile: nil, initialDomain: "fabrikamdr.onmicrosoft.com",
            profile: FakeTenantProfile.named("realistic"), clock: { clock.instant })
        return (tenant, clock)
    }

    /// The busiest `window` seconds of `moments` (seconds since the clock's start), counting one per moment.
    static func busiest(_ moments: [Double], window: Double) -> Int {
        var busiest = 0, start = 0
        for end in moments.indices {
            while moments[end] - moments[start] >= window { start += 1 }
            busiest = max(busiest, end - start + 1)
        }
        return busiest
    }

    /// 2,850 writes fit in the app's window (3,000 per 150 s), so the governor sends them without waiting.
    @Test func aBurstWithinTheWindowIsAdmittedWithoutWaiting() async throws {
        let clock = VirtualClock()
        let governor = ThroughputGovernor(
            configuration: .init(resourceUnits: ThroughputGovernor.TenantSize.large.resourceUnits), clock: clock)
        for _ in 0..<2_850 {
            try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), path: "/users")
        }
        #expect(clock.elapsed == 0)
        #expect(await governor.statistics.delayed == 0)
        // The next one waits for the window: the first writes leave it after 150 s.
        try await governor.admit(RequestCost(resourceUnits: 1, writes: 1), path: "/users")
        #expect(clock.elapsed == 150)
        #expect(await governor.statistics.waitedByLimit["writes"] == 150)
    }

    /// 10,000 writes from 8 concurrent workers: no 150 s window ever holds more than 3,000 writes (the
    /// governor aims for 95 %), the fake answers no 429, and the time stays close to the window's arithmetic.
    @Test func theWindowsLimitIsNeverExceededAndTheFakeNeverThrottles() async throws {
        let (tenant, clock) = try realistic()
        let governor = ThroughputGovernor(
            configuration: .init(resourceUnits: ThroughputGovernor.TenantSize.small.resourceUnits), clock: clock)
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock, governor: governor)
        let writes = 10_000, workers = 8
        let moments = try await withThrowingTaskGroup(of: [Double].self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var sent: [Double] = []
                    for index in stride(from: worker, to: writes, by: workers) {
                        _ = try await graph.send(
                            GraphRequest(
                                "POST", "/groups",
                                body: [
                                    "displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true,
                                ]))
                        sent.append(clock.elapsed)
                    }
                    return sent
                }
            }
            var all: [Double] = []
            for try await sent in group { all += sent }
            return all.sorted()
        }
        #expect(moments.count == writes)
        // Moments are taken when each response is back: on the shared virtual clock another worker's wait can move the
        // clock between a write's admission and that moment, so a few writes may count in the next window. The 5 %
        // headroom is there for exactly that skew; what must hold is Graph's own limit.
        let busiest = Self.busiest(moments, window: 150)
        #expect(busiest <= 3_000, "busiest 150 s window held \(busiest) writes")
        #expect(await tenant.throttlingCounts.throttled == 0)
        #expect(await governor.statistics.throttled == 0)
        // Three full windows of 2,850 and the rest at once: 3 × 150 s, within a second.
        #expect(clock.elapsed >= 450 && clock.elapsed < 451, "took \(clock.elapsed) s")
    }

    /// Conditional Access answers 429 without Retry-After above 1 request per second per tenant; the governor
    /// paces those requests from the first one, so the fake's throttle model never refuses one.
    @Test func conditionalAccessIsPacedAtItsLimitFromTheStart() async throws {
        let (tenant, clock) = try realistic()
        let governor = ThroughputGovernor(clock: clock)
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock, governor: governor)
        var moments: [Double] = []
        for _ in 0..<10 {
            _ = try await graph.list("/identity/conditionalAccess/policies")
            moments.append(clock.elapsed)
            _ = try await graph.list("/identity/conditionalAccess/namedLocations")
            moments.append(clock.elapsed)
        }
        #expect(await tenant.throttlingCounts.throttled == 0)
        #expect(Self.busiest(moments, window: 1) == 1)
        // 20 requests at 1 per 1/0.95 s: 19 gaps, 20 s.
        #expect(clock.elapsed > 19 && clock.elapsed < 20.5, "took \(clock.elapsed) s")
        let waited = try #require(await governor.statistics.waitedByLimit["conditionalAccess"])
        #expect(waited == clock.elapsed)
        // Other requests are not held back by the endpoint's pace.
        let before = clock.elapsed
        _ = try await graph.list("/users")
        #expect(clock.elapsed == before)
    }

    /// Without the governor's pace (the endpoint limit removed), the same requests meet 429s: the test above can fail.
    @Test func withoutTheEndpointLimitTheFakeThrottlesConditionalAccess() async throws {
        let (tenant, clock) = try realistic()
        let governor = ThroughputGovernor(configuration: .init(endpointLimits: []), clock: clock)
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock,
            retry: RetryPolicy(maxThrottledAttempts: 20), governor: governor)
        for _ in 0..<5 { _ = try await graph.list("/identity/conditionalAccess/policies") }
        #expect(await tenant.throttlingCounts.throttled > 0)
    }

    /// Each limit's simulated waiting is booked under the limit (the 429's `x-ms-throttle-scope`, or the governor's
    /// limit) and compared with the limit's arithmetic lower bound.
    @Test func waitingIsBookedPerLimitAgainstItsLowerBound() async throws {
        let (tenant, clock) = try realistic()
        let governor = ThroughputGovernor(
            configuration: .init(resourceUnits: ThroughputGovernor.TenantSize.small.resourceUnits), clock: clock)
        let graph = GraphClient(
            baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: tenant), clock: clock, governor: governor)
        for index in 0..<6_000 {
            _ = try await graph.send(
                GraphRequest(
                    "POST", "/groups",
                    body: [
                        "displayName": "g", "mailEnabled": false, "mailNickname": .string("g\(index)"), "securityEnabled": true,
                    ]))
        }
        for _ in 0..<5 { _ = try await graph.list("/identity/conditionalAccess/policies") }
        let throttling = try FakeTenantProfile.named("realistic").throttling
        let figures = try #require(throttling.limitFigures(usage: await tenant.throttlingUsage, waited: clock.waitedByThrottleScope))
        let writes = try #require(figures.first { $0.scope == ThrottleScope.appWrites })
        // 6,000 writes: 2,850 at once, 2,850 after 150 s, 300 after 300 s; the bound is (6,000 − 3,000) ÷ 20/s.
        #expect(writes.waited == 300)
        #expect(writes.lowerBound == 150)
        let ca = try #require(figures.first { $0.scope == ThrottleScope.conditionalAccess })
        #expect(ca.lowerBound == 4)
        #expect(ca.waited > 4 && ca.waited < 4.5, "\(ca.waited)")
        #expect(figures.contains { $0.scope == ThrottleScope.tenantWrites && $0.waited == 0 && $0.lowerBound == 0 })
        #expect(abs(clock.waitedByThrottleScope.values.reduce(0, +) - (clock.waited[.throttling] ?? 0)) < 1e-6)

        // Without a governor, a 429's wait is booked under the scope the fake names.
        let (bare, bareClock) = try realistic()
        let plain = GraphClient(baseURL: FakeTenantTransport.baseURL, transport: FakeTenantTransport(tenant: bare), clock: bareClock)
        for _ in 0..<3 { _ = try await plain.list("/identity/conditionalAccess/policies") }
        #expect((bareClock.waitedByThrottleScope[ThrottleScope.conditionalAccess] ?? 0) > 0)
        #expect(abs((bareClock.waitedByThrottleScope[ThrottleScope.conditionalAccess] ?? 0) - (bareClock.waited[.throttling] ?? 0)) < 1e-6)
    }
}

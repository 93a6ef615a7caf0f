import Foundation

/// A token bucket: `capacity` units that refill evenly over `window` seconds. It may go negative
/// when refused requests are still charged, which is how hammering a throttled API makes it worse.
struct QuotaBucket {
    let capacity: Double
    let window: Double
    private(set) var tokens: Double
    private var updated: Date?

    init(capacity: Double, window: Double) {
        self.capacity = capacity
        self.window = window
        tokens = capacity
    }

    var refillPerSecond: Double { capacity / window }

    mutating func refill(at now: Date) {
        if let updated { tokens = min(capacity, tokens + max(0, now.timeIntervalSince(updated)) * refillPerSecond) }
        updated = now
    }

    /// Seconds until `cost` units are available.
    func wait(for cost: Double) -> Double { tokens >= cost ? 0 : (cost - tokens) / refillPerSecond }

    mutating func charge(_ cost: Double) { tokens = max(-capacity, tokens - cost) }

    /// Share of the quota in use, 0…2.
    var usage: Double { (capacity - tokens) / capacity }
}

/// What a request costs under Graph's identity-and-access throttling.
struct RequestCost {
    var resourceUnits: Int
    var isWrite: Bool
    var isConditionalAccess: Bool

    /// Graph's documented costs: a GET is 1–5 resource units (list users/applications 2, group members 3,
    /// transitiveMembers 5; `$select` −1, `$expand` +1); any write is 1 resource unit and 1 write.
    static func of(method: String, segments: [String], query: [String: String]) -> RequestCost {
        let caPath = segments.count >= 2 && segments[0] == "identity" && segments[1] == "conditionalAccess"
        guard method == "GET" else { return RequestCost(resourceUnits: 1, isWrite: true, isConditionalAccess: caPath) }
        var units = 1
        if let last = segments.last {
            if last == "transitiveMembers" {
                units = 5
            } else if last == "members" || last == "owners" {
                units = 3
            } else if segments.count == 1, ["users", "applications", "groups", "servicePrincipals"].contains(last) {
                units = 2
            }
        }
        if query["$select"] != nil { units -= 1 }
        if query["$expand"] != nil { units += 1 }
        return RequestCost(resourceUnits: max(1, units), isWrite: false, isConditionalAccess: caPath)
    }
}

/// Graph's throttling for one tenant: resource units and writes per app, writes per tenant, and
/// the one-request-per-second limit on Conditional Access policies and named locations.
struct ThrottleModel {
    let settings: FakeTenantProfile.Throttling
    private var resourceUnits: [String: QuotaBucket] = [:]
    private var appWrites: [String: QuotaBucket] = [:]
    private var tenantWrites: QuotaBucket
    private var conditionalAccess: QuotaBucket
    /// Requests refused so far, and admitted so far (for tests and reports).
    private(set) var throttledCount = 0
    private(set) var admittedCount = 0
    /// A throttling storm: until `until`, every request costs `1 / share` times as much (the quotas shrink to `share`).
    var storm: (share: Double, until: Date)?
    /// Write units admitted (each admitted write costs one, whatever its answer).
    private(set) var admittedWrites = 0
    /// Per app: write units and resource units admitted.
    private(set) var admittedWritesByApp: [String: Int] = [:]
    private(set) var admittedUnitsByApp: [String: Double] = [:]
    /// Conditional Access requests admitted.
    private(set) var admittedConditionalAccess = 0

    init(settings: FakeTenantProfile.Throttling) {
        self.settings = settings
        tenantWrites = QuotaBucket(capacity: Double(settings.writesPerTenant), window: 300)
        conditionalAccess = QuotaBucket(
            capacity: max(1, settings.conditionalAccessPerSecond),
            window: max(1, settings.conditionalAccessPerSecond) / max(0.001, settings.conditionalAccessPerSecond))
    }

    /// Resource units per 10 s for a tenant of this many users, as Graph documents.
    static func resourceUnitsPer10s(users: Int) -> Int { users < 50 ? 3_500 : (users <= 500 ? 5_000 : 8_000) }

    enum Decision {
        case admitted(headers: [String: String])
        case throttled(retryAfter: Int?, headers: [String: String])
    }

    mutating func admit(app: String, cost: RequestCost, users: Int, now: Date) -> Decision {
        guard settings.enabled else { return .admitted(headers: [:]) }
        if let storm, now >= storm.until { self.storm = nil }
        let scale = storm.map { 1 / max(0.01, $0.share) } ?? 1
        let units = Double(cost.resourceUnits) * scale
        let ruCapacity = Double(settings.resourceUnitsPer10s ?? Self.resourceUnitsPer10s(users: users))
        var ru = resourceUnits[app] ?? QuotaBucket(capacity: ruCapacity, window: 10)
        var writes = appWrites[app] ?? QuotaBucket(capacity: Double(settings.writesPerApp), window: 150)
        ru.refill(at: now)
        writes.refill(at: now)
        tenantWrites.refill(at: now)
        conditionalAccess.refill(at: now)

        var wait = ru.wait(for: units)
        var scope = "Tenant_Application/ResourceUnits"
        if cost.isWrite {
            if writes.wait(for: scale) > wait { wait = writes.wait(for: scale); scope = "Tenant_Application/Writes" }
            if tenantWrites.wait(for: scale) > wait { wait = tenantWrites.wait(for: scale); scope = "Tenant/Writes" }
        }
        if cost.isConditionalAccess, conditionalAccess.wait(for: 1) > wait {
            wait = conditionalAccess.wait(for: 1)
            scope = "Tenant/ConditionalAccess"
        }

        var headers = ["x-ms-resource-unit": String(cost.resourceUnits)]
        defer {
            resourceUnits[app] = ru
            appWrites[app] = writes
        }
        if wait > 0 {
            throttledCount += 1
            if settings.chargeThrottledRequests {
                ru.charge(units)
                if cost.isWrite { writes.charge(scale) }
            }
            headers["x-ms-throttle-scope"] = scope
            headers["x-ms-throttle-limit-percentage"] = Self.oneDecimal(min(1.8, max(0.8, ru.usage)))
            let omit = cost.isConditionalAccess && settings.omitRetryAfterForConditionalAccess
            return .throttled(retryAfter: omit ? nil : max(1, Int(wait.rounded(.up))), headers: headers)
        }
        admittedCount += 1
        ru.charge(units)
        admittedUnitsByApp[app, default: 0] += Double(cost.resourceUnits)
        if cost.isWrite {
            writes.charge(scale)
            tenantWrites.charge(scale)
            admittedWrites += 1
            admittedWritesByApp[app, default: 0] += 1
        }
        if cost.isConditionalAccess {
            conditionalAccess.charge(1)
            admittedConditionalAccess += 1
        }
        let usage = max(ru.usage, cost.isWrite ? writes.usage : 0)
        if usage > 0.8 { headers["x-ms-throttle-limit-percentage"] = Self.oneDecimal(min(1.8, usage)) }
        return .admitted(headers: headers)
    }

    /// `1.2` for 1.23: the header's format, without `String(format:)`, which costs more than the rest of the model.
    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }
}

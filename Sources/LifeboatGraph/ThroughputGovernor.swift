import Foundation

/// What one Graph request costs against the identity throttling quotas.
public struct RequestCost: Sendable, Hashable {
    /// Resource units (a write costs 1; a read 1 to 5).
    public var resourceUnits: Double
    /// Write units (1 per write).
    public var writes: Double

    public init(resourceUnits: Double, writes: Double) {
        self.resourceUnits = resourceUnits
        self.writes = writes
    }

    public static func + (lhs: RequestCost, rhs: RequestCost) -> RequestCost {
        RequestCost(resourceUnits: lhs.resourceUnits + rhs.resourceUnits, writes: lhs.writes + rhs.writes)
    }

    /// Graph's documented estimate: a write 1 RU and 1 write; a read 1 (one object), 2 (a list),
    /// 3 (members or owners), 5 (transitive members); `$select` saves 1, `$expand` adds 1.
    public static func estimate(_ request: GraphRequest) -> RequestCost {
        guard request.method == "GET" || request.method == "HEAD" else { return RequestCost(resourceUnits: 1, writes: 1) }
        let last = request.path.split(separator: "/").last.map { $0.lowercased() } ?? ""
        var units: Double
        if last.contains("transitive") {
            units = 5
        } else if last == "members" || last == "owners" || last == "memberof" {
            units = 3
        } else if last.contains("(") || last.contains("-") || last.contains("@") {
            units = 1
        } else {
            units = 2
        }
        if request.query.contains(where: { $0.name == "$select" }) { units -= 1 }
        if request.query.contains(where: { $0.name == "$expand" }) { units += 1 }
        return RequestCost(resourceUnits: max(1, units), writes: 0)
    }
}

/// Keeps a client's request rate just under Graph's identity quotas instead of bouncing off 429s.
///
/// Two token buckets — write units and resource units — each refill at `headroom` of the quota
/// and hold at most half of the rest as a burst, so no window of the quota's length can see more
/// than the quota. Each request reserves its estimated cost before it is sent and waits (on the
/// injected ``GraphClock``) until its reservation is covered; `x-ms-resource-unit` corrects the
/// estimate afterwards. A 429 pauses every request (Retry-After, or jittered exponential backoff
/// when Graph gives none), halves the rate and drains the buckets; `x-ms-throttle-limit-percentage`
/// at or above ``Configuration/highUsage`` slows it by a tenth; every unthrottled answer creeps
/// the rate back up.
public actor ThroughputGovernor {
    /// A limit of `limit` units per `window` seconds.
    public struct Quota: Sendable, Hashable {
        public var limit: Double
        public var window: Double
        public init(limit: Double, window: Double) {
            self.limit = limit
            self.window = window
        }

        /// Graph's write quota per app per tenant: 3,000 per 150 seconds.
        public static let graphWrites = Quota(limit: 3000, window: 150)
    }

    /// The tenant's size, which sets the resource-unit quota per app per tenant.
    public enum TenantSize: String, Sendable, CaseIterable {
        /// Fewer than 50 users: 3,500 RU per 10 s.
        case small
        /// 50 to 500 users: 5,000 RU per 10 s.
        case medium
        /// More than 500 users: 8,000 RU per 10 s.
        case large

        public var resourceUnits: Quota {
            switch self {
            case .small: return Quota(limit: 3500, window: 10)
            case .medium: return Quota(limit: 5000, window: 10)
            case .large: return Quota(limit: 8000, window: 10)
            }
        }
    }

    public struct Configuration: Sendable {
        public var writes: Quota
        public var resourceUnits: Quota
        /// The share of each quota the governor aims for.
        public var headroom: Double
        /// The lowest share of the target rate after repeated throttling.
        public var minimumFactor: Double
        /// How much of the target rate one unthrottled answer gives back.
        public var recoveryStep: Double
        /// `x-ms-throttle-limit-percentage` (as a fraction of the limit) from which the rate is lowered.
        public var highUsage: Double
        /// Backoff when a 429 carries no Retry-After.
        public var backoff: RetryPolicy

        public init(
            writes: Quota = .graphWrites, resourceUnits: Quota = TenantSize.small.resourceUnits, headroom: Double = 0.9,
            minimumFactor: Double = 0.1, recoveryStep: Double = 0.02, highUsage: Double = 0.9,
            backoff: RetryPolicy = RetryPolicy()
        ) {
            self.writes = writes
            self.resourceUnits = resourceUnits
            self.headroom = headroom
            self.minimumFactor = minimumFactor
            self.recoveryStep = recoveryStep
            self.highUsage = highUsage
            self.backoff = backoff
        }
    }

    /// What the governor has done so far.
    public struct Statistics: Sendable, Hashable {
        /// Requests admitted.
        public var admitted = 0
        /// 429s reported.
        public var throttled = 0
        /// Requests that had to wait before being admitted.
        public var delayed = 0
        /// The current share of the target rate (1 = full).
        public var factor = 1.0
    }

    private struct Bucket {
        var level: Double
        var capacity: Double
        var rate: Double

        init(_ quota: Quota, headroom: Double) {
            rate = quota.limit * headroom / quota.window
            capacity = max(1, quota.limit * (1 - headroom) / 2)
            level = capacity
        }

        mutating func refill(seconds: Double, factor: Double) {
            level = min(capacity, level + rate * factor * max(0, seconds))
        }

        func wait(factor: Double) -> Double { level >= 0 ? 0 : -level / (rate * factor) }
    }

    public nonisolated let configuration: Configuration
    private let clock: any GraphClock
    private var writes: Bucket
    private var units: Bucket
    private var updated: Date?
    private var factor = 1.0
    private var pausedUntil: Date?
    private var consecutiveThrottles = 0
    private var lastSlowdown: Date?
    private var stats = Statistics()

    public init(configuration: Configuration = Configuration(), clock: any GraphClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
        writes = Bucket(configuration.writes, headroom: configuration.headroom)
        units = Bucket(configuration.resourceUnits, headroom: configuration.headroom)
    }

    /// The counters so far.
    public var statistics: Statistics {
        var current = stats
        current.factor = factor
        return current
    }

    private func refill(to now: Date) {
        if let updated {
            let seconds = now.timeIntervalSince(updated)
            writes.refill(seconds: seconds, factor: factor)
            units.refill(seconds: seconds, factor: factor)
        }
        updated = max(updated ?? now, now)
    }

    /// Reserves `cost` and waits until the quotas allow it and no 429 pause is in force.
    public func admit(_ cost: RequestCost) async throws {
        let now = await clock.now()
        refill(to: now)
        writes.level -= cost.writes
        units.level -= cost.resourceUnits
        stats.admitted += 1
        var wait = max(writes.wait(factor: factor), units.wait(factor: factor))
        if let pausedUntil { wait = max(wait, pausedUntil.timeIntervalSince(now)) }
        if wait > 0 {
            stats.delayed += 1
            try await clock.sleep(seconds: wait)
        }
        // A 429 may have arrived while this request waited: honour that pause too.
        while let pausedUntil {
            let remaining = pausedUntil.timeIntervalSince(await clock.now())
            guard remaining > 0 else { break }
            try await clock.sleep(seconds: remaining)
        }
    }

    /// Learns from a response: its status, `Retry-After`, `x-ms-resource-unit` and `x-ms-throttle-limit-percentage`.
    public func observe(status: Int, headers: [String: String], estimated: RequestCost) async {
        let now = await clock.now()
        refill(to: now)
        if let actual = headers["x-ms-resource-unit"].flatMap(Double.init) {
            units.level -= actual - estimated.resourceUnits
        }
        if status == 429 {
            throttled(retryAfter: headers["retry-after"].flatMap(Double.init), now: now)
            return
        }
        consecutiveThrottles = 0
        if let usage = headers["x-ms-throttle-limit-percentage"].flatMap(Double.init).map({ $0 > 2 ? $0 / 100 : $0 }),
           usage >= configuration.highUsage {
            // Close to the limit: slow down, at most once a second so a burst of answers does not collapse the rate.
            if lastSlowdown.map({ now.timeIntervalSince($0) >= 1 }) ?? true {
                factor = max(configuration.minimumFactor, factor * 0.9)
                lastSlowdown = now
            }
        } else if (200..<500).contains(status) {
            factor = min(1, factor + configuration.recoveryStep)
        }
    }

    /// Records a 429: pauses every request, halves the rate and drains the buckets.
    public func throttled(retryAfter: Double?) async {
        let now = await clock.now()
        refill(to: now)
        throttled(retryAfter: retryAfter, now: now)
    }

    private func throttled(retryAfter: Double?, now: Date) {
        stats.throttled += 1
        consecutiveThrottles += 1
        // Requests already in flight when the first 429 came answer 429 too: slow down once per pause.
        let alreadyPaused = pausedUntil.map { now < $0 } ?? false
        let pause = retryAfter ?? configuration.backoff.backoff(attempt: consecutiveThrottles)
        let until = now.addingTimeInterval(pause)
        pausedUntil = max(pausedUntil ?? until, until)
        if !alreadyPaused { factor = max(configuration.minimumFactor, factor * 0.5) }
        lastSlowdown = now
        writes.level = min(writes.level, 0)
        units.level = min(units.level, 0)
    }
}

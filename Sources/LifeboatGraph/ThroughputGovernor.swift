import Foundation
import Synchronization

/// What one Graph request costs against the identity throttling quotas.
package struct RequestCost: Sendable, Hashable {
    /// Resource units (a write costs 1; a read 1 to 5).
    package var resourceUnits: Double
    /// Write units (1 per write).
    package var writes: Double

    package init(resourceUnits: Double, writes: Double) {
        self.resourceUnits = resourceUnits
        self.writes = writes
    }

    package static func + (lhs: RequestCost, rhs: RequestCost) -> RequestCost {
        RequestCost(resourceUnits: lhs.resourceUnits + rhs.resourceUnits, writes: lhs.writes + rhs.writes)
    }

    /// Graph's documented estimate: a write 1 RU and 1 write; a read 1 (one object), 2 (a list),
    /// 3 (members or owners), 5 (transitive members); `$select` saves 1, `$expand` adds 1.
    package static func estimate(_ request: GraphRequest) -> RequestCost {
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
/// Graph's quotas are windows (throttling-limits.md: 3,000 writes per 150 s per app and tenant, 18,000 writes per
/// 300 s per tenant, 3,500–8,000 resource units per 10 s per app), so the governor keeps, per quota, the requests it
/// admitted in the last window and admits a request as soon as the window holds `headroom` of the limit with it:
/// a burst the window allows goes at once, and no window of the quota's length ever sees more than
/// `headroom` × the limit. Admission is first come, first served. Endpoints with their own documented limit
/// (``EndpointLimit``, e.g. Conditional Access: 1 request per second per tenant, 429s without Retry-After) are paced
/// at that limit from the first request. Each request reserves its estimated cost before it is sent and waits (on
/// the injected ``GraphClock``) until its reservation fits; `x-ms-resource-unit` corrects the estimate afterwards.
/// A 429 pauses every request (Retry-After, or jittered exponential backoff when Graph gives none) and halves the
/// share of each quota used; `x-ms-throttle-limit-percentage` at or above ``Configuration/highUsage`` lowers it by
/// a tenth; every unthrottled answer creeps it back up.
package actor ThroughputGovernor {
    /// A limit of `limit` units per `window` seconds.
    package struct Quota: Sendable, Hashable {
        package var limit: Double
        package var window: Double
        package init(limit: Double, window: Double) {
            self.limit = limit
            self.window = window
        }

        /// Graph's write quota per app per tenant: 3,000 per 150 seconds.
        package static let graphWrites = Quota(limit: 3000, window: 150)
        /// Graph's write quota per tenant, all apps together: 18,000 per 300 seconds.
        package static let graphTenantWrites = Quota(limit: 18000, window: 300)
    }

    /// A documented per-endpoint limit: requests whose path starts with one of `pathPrefixes` are sent at most
    /// `requestsPerSecond` a second, whatever the quotas allow.
    package struct EndpointLimit: Sendable, Hashable {
        /// Which limit, for statistics (e.g. `conditionalAccess`).
        package var name: String
        /// Path prefixes without the version, lowercased, e.g. `/identity/conditionalaccess/`.
        package var pathPrefixes: [String]
        package var requestsPerSecond: Double

        package init(name: String, pathPrefixes: [String], requestsPerSecond: Double) {
            self.name = name
            self.pathPrefixes = pathPrefixes.map { $0.lowercased() }
            self.requestsPerSecond = requestsPerSecond
        }

        /// Identity protection and Conditional Access (policies and named locations): 1 request per second per
        /// tenant for all apps, and its 429s carry no Retry-After (throttling-limits.md).
        package static let conditionalAccess = EndpointLimit(
            name: "conditionalAccess", pathPrefixes: ["/identity/conditionalAccess", "/identityProtection"], requestsPerSecond: 1)

        func matches(_ path: String) -> Bool {
            let lowered = path.lowercased()
            return pathPrefixes.contains { lowered == $0 || lowered.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
        }
    }

    /// The tenant's size, which sets the resource-unit quota per app per tenant.
    package enum TenantSize: String, Sendable, CaseIterable {
        /// Fewer than 50 users: 3,500 RU per 10 s.
        case small
        /// 50 to 500 users: 5,000 RU per 10 s.
        case medium
        /// More than 500 users: 8,000 RU per 10 s.
        case large

        package var resourceUnits: Quota {
            switch self {
            case .small: return Quota(limit: 3500, window: 10)
            case .medium: return Quota(limit: 5000, window: 10)
            case .large: return Quota(limit: 8000, window: 10)
            }
        }
    }

    package struct Configuration: Sendable {
        /// Writes per app (and tenant).
        package var writes: Quota
        /// Writes per tenant; with one app registration the per-app quota is the tighter one.
        package var tenantWrites: Quota
        package var resourceUnits: Quota
        /// Endpoints paced at their own documented limit.
        package var endpointLimits: [EndpointLimit]
        /// The share of each quota the governor aims for: the safety margin for clocks that disagree and for
        /// requests other clients make.
        package var headroom: Double
        /// The lowest share of the target rate after repeated throttling.
        package var minimumFactor: Double
        /// How much of the target rate one unthrottled answer gives back.
        package var recoveryStep: Double
        /// `x-ms-throttle-limit-percentage` (as a fraction of the limit) from which the rate is lowered.
        package var highUsage: Double
        /// Backoff when a 429 carries no Retry-After.
        package var backoff: RetryPolicy
        /// Application registrations sharing the tenant: each has its own ``writes`` and ``resourceUnits`` windows;
        /// ``tenantWrites`` and the ``endpointLimits`` hold for all of them together.
        package var apps: Int

        package init(
            writes: Quota = .graphWrites, tenantWrites: Quota = .graphTenantWrites, resourceUnits: Quota = TenantSize.small.resourceUnits,
            endpointLimits: [EndpointLimit] = [.conditionalAccess], headroom: Double = 0.95,
            minimumFactor: Double = 0.1, recoveryStep: Double = 0.02, highUsage: Double = 0.9,
            backoff: RetryPolicy = RetryPolicy(), apps: Int = 1
        ) {
            self.apps = max(1, apps)
            self.writes = writes
            self.tenantWrites = tenantWrites
            self.resourceUnits = resourceUnits
            self.endpointLimits = endpointLimits
            self.headroom = headroom
            self.minimumFactor = minimumFactor
            self.recoveryStep = recoveryStep
            self.highUsage = highUsage
            self.backoff = backoff
        }
    }

    /// What the governor has done so far.
    package struct Statistics: Sendable, Hashable {
        /// Requests admitted.
        package var admitted = 0
        /// 429s reported.
        package var throttled = 0
        /// Requests that had to wait before being admitted.
        package var delayed = 0
        /// The current share of the target rate (1 = full).
        package var factor = 1.0
        /// Seconds requests were held back, by the limit that held them: `writes`, `tenantWrites`,
        /// `resourceUnits`, an ``EndpointLimit``'s name, or `throttled` (a 429's pause). Concurrent waits add up.
        package var waitedByLimit: [String: Double] = [:]
    }

    /// The costs admitted within the last window of one quota, oldest first; reservations are never earlier than
    /// the last one, so the window that ends at a new reservation is the only one it can overfill.
    private struct Window {
        let quota: Quota
        private var entries: [(at: Date, cost: Double)] = []
        private var head = 0
        private(set) var total = 0.0

        init(_ quota: Quota) { self.quota = quota }

        /// The earliest moment from `earliest` at which `cost` fits under `limit` in the window ending then. Changes
        /// nothing: with several apps, the slots of those not chosen are only looked at.
        func slot(for cost: Double, limit: Double, earliest: Date) -> Date {
            var at = earliest
            var index = head
            var total = self.total
            func drop(before moment: Date) {
                let edge = moment.addingTimeInterval(-quota.window)
                while index < entries.count, entries[index].at <= edge {
                    total -= entries[index].cost
                    index += 1
                }
            }
            drop(before: at)
            while total + cost > limit, index < entries.count {
                at = max(at, entries[index].at.addingTimeInterval(quota.window))
                drop(before: at)
            }
            return at
        }

        /// Drops what left the window before `moment` (no reservation is ever earlier than it again).
        mutating func expire(before moment: Date) { forget(before: moment) }

        /// Records `cost` at `at`, no earlier than any reservation before it.
        mutating func record(_ cost: Double, at: Date) {
            forget(before: at)
            guard cost != 0 else { return }
            // A burst admitted at one moment is one entry: finding a full window's next slot stays short.
            if head < entries.count, entries[entries.count - 1].at == at {
                entries[entries.count - 1].cost += cost
            } else {
                entries.append((at, cost))
            }
            total += cost
        }

        /// The share of the quota's limit admitted in the window that ends at `moment`.
        mutating func usage(at moment: Date) -> Double {
            forget(before: moment)
            return total / quota.limit
        }

        /// Drops what has left the window that ends at `moment`.
        private mutating func forget(before moment: Date) {
            let edge = moment.addingTimeInterval(-quota.window)
            while head < entries.count, entries[head].at <= edge {
                total -= entries[head].cost
                head += 1
            }
            if head > 4096, head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
    }

    package nonisolated let configuration: Configuration
    /// Whether the apps together can overfill the tenant's write window. In one tenant window each app admits at most
    /// its own limit once per app window that fits in it (rounded up), so with up to three apps (3,000 per 150 s each,
    /// 18,000 per 300 s for the tenant) the tenant's window cannot bind and is not consulted. Consulted anyway, it held
    /// writes back after the share of each quota was lowered (a 429, high usage): it remembers 300 s of writes admitted
    /// at the old share against 150 s for the app's window, and booked minutes of waiting to a limit Graph could not
    /// have enforced.
    private nonisolated let tenantWindowCanBind: Bool
    private let clock: any GraphClock
    /// Per app registration.
    private var writes: [Window]
    private var tenantWrites: Window
    /// Per app registration.
    private var units: [Window]
    /// The latest reservation: admission is first come, first served.
    private var lastSlot: Date?
    private var endpointSlots: [String: Date] = [:]
    /// Endpoints with a request admitted and not yet answered, and the requests waiting their turn (first come, first
    /// served): one request at a time per paced endpoint, so that requests paced apart also arrive apart (on a
    /// simulated clock, where a later sleeper moves the clock past an earlier one's slot before it is sent, too).
    private let turns = EndpointTurns()
    private var factor = 1.0
    private var pausedUntil: Date?
    private var consecutiveThrottles = 0
    private var lastSlowdown: Date?
    private var stats = Statistics()

    package init(configuration: Configuration = Configuration(), clock: any GraphClock = SystemClock()) {
        self.configuration = configuration
        self.clock = clock
        writes = Array(repeating: Window(configuration.writes), count: configuration.apps)
        tenantWrites = Window(configuration.tenantWrites)
        units = Array(repeating: Window(configuration.resourceUnits), count: configuration.apps)
        let appWindowsPerTenantWindow = (configuration.tenantWrites.window / max(configuration.writes.window, 0.001)).rounded(.up)
        tenantWindowCanBind =
            Double(configuration.apps) * configuration.writes.limit * appWindowsPerTenantWindow > configuration.tenantWrites.limit
    }

    /// The counters so far.
    package var statistics: Statistics {
        var current = stats
        current.factor = factor
        return current
    }

    /// The ``ThrottleScope`` of each limit's waits.
    static let scopes = [
        "writes": ThrottleScope.appWrites, "tenantWrites": ThrottleScope.tenantWrites, "resourceUnits": ThrottleScope.resourceUnits,
        EndpointLimit.conditionalAccess.name: ThrottleScope.conditionalAccess,
    ]

    /// The limit of `quota` the governor aims for now.
    private func target(_ quota: Quota) -> Double { max(1, quota.limit * configuration.headroom * factor) }

    /// Reserves `cost` and waits until the quotas allow it and no 429 pause is in force.
    package func admit(_ cost: RequestCost) async throws {
        try await admit(cost, path: "")
    }

    /// Reserves `cost` for a request to `path` (e.g. `/identity/conditionalAccess/policies`) and waits until the
    /// quotas and the path's ``EndpointLimit`` allow it and no 429 pause is in force.
    package func admit(_ cost: RequestCost, path: String) async throws {
        _ = try await admit(cost, paths: [path])
    }

    /// Reserves `cost` for one request, or one `$batch` whose inner requests go to `paths`, on the app registration
    /// (0-based, below ``Configuration/apps``) whose quotas admit it first, and waits until that app's quotas, the
    /// tenant's write quota and the ``EndpointLimit`` of every path allow it and no 429 pause is in force. Returns
    /// the app registration to send it with.
    package func admit(_ cost: RequestCost, paths: [String]) async throws -> Int {
        let paced = Self.paced(configuration.endpointLimits, paths).map(\.name)
        for name in paced { await take(name) }
        do {
            return try await reserve(cost, paths: paths)
        } catch {
            release(names: paced)
            throw error
        }
    }

    /// Whether a request to `paths` takes a turn at a paced endpoint (and so must be ``release(paths:)``d).
    package nonisolated func isPaced(_ paths: [String]) -> Bool {
        !Self.paced(configuration.endpointLimits, paths).isEmpty
    }

    /// Ends the turn of a request admitted for `paths` at its paced endpoints: call once its answer (or failure) is in.
    package func release(paths: [String]) {
        release(names: Self.paced(configuration.endpointLimits, paths).map(\.name))
    }

    private func take(_ name: String) async { await turns.take(name) }

    /// The limits among `limits` that one of `paths` falls under.
    private static func paced(_ limits: [EndpointLimit], _ paths: [String]) -> [EndpointLimit] {
        var result: [EndpointLimit] = []
        for endpoint in limits {
            for path in paths where endpoint.matches(path) {
                result.append(endpoint)
                break
            }
        }
        return result
    }

    private func release(names: [String]) {
        for name in names { turns.release(name) }
    }

    private func reserve(_ cost: RequestCost, paths: [String]) async throws -> Int {
        let now = await clock.now()
        stats.admitted += 1
        let earliest = max(now, lastSlot ?? now)
        // The app whose own quotas admit the request first; ties go to the one with the most room left.
        var app = 0
        var at = Date.distantFuture
        var limit = "writes"
        var room = -Double.infinity
        for index in 0..<writes.count {
            writes[index].expire(before: earliest)
            units[index].expire(before: earliest)
            var candidate = earliest
            var candidateLimit = "writes"
            if cost.writes > 0 {
                let slot = writes[index].slot(for: cost.writes, limit: target(configuration.writes), earliest: candidate)
                if slot > candidate { candidate = slot; candidateLimit = "writes" }
            }
            let slot = units[index].slot(for: cost.resourceUnits, limit: target(configuration.resourceUnits), earliest: candidate)
            if slot > candidate { candidate = slot; candidateLimit = "resourceUnits" }
            let left = -(writes[index].total / configuration.writes.limit + units[index].total / configuration.resourceUnits.limit)
            if candidate < at || (candidate == at && left > room) {
                app = index
                at = candidate
                limit = candidateLimit
                room = left
            }
        }
        if at == earliest { limit = "writes" }
        if let pausedUntil, pausedUntil > at {
            at = pausedUntil
            limit = "throttled"
        }
        if cost.writes > 0, tenantWindowCanBind {
            let slot = tenantWrites.slot(for: cost.writes, limit: target(configuration.tenantWrites), earliest: at)
            if slot > at {
                at = slot
                limit = "tenantWrites"
            }
        }
        // A later slot on one quota cannot overfill another: each window only loses entries as time goes on.
        writes[app].record(cost.writes, at: at)
        tenantWrites.record(cost.writes, at: at)
        units[app].record(cost.resourceUnits, at: at)
        lastSlot = at
        // The endpoint's own pace holds only its requests back, not the others. A `$batch` with several requests to
        // one limited endpoint would reach it at once: ``GraphClient/batch(_:)`` sends at most one per batch.
        var send = at
        for endpoint in Self.paced(configuration.endpointLimits, paths) {
            let spacing = 1 / (max(0.001, endpoint.requestsPerSecond) * configuration.headroom)
            if let previous = endpointSlots[endpoint.name], previous.addingTimeInterval(spacing) > send {
                send = previous.addingTimeInterval(spacing)
                limit = endpoint.name
            }
        }
        for endpoint in Self.paced(configuration.endpointLimits, paths) {
            endpointSlots[endpoint.name] = send
        }
        let wait = send.timeIntervalSince(now)
        if wait > 0 {
            stats.delayed += 1
            stats.waitedByLimit[limit, default: 0] += wait
            // A deadline, not a duration: concurrent requests held to the same moment wait once on a simulated clock.
            try await ThrottleScope.$current.withValue(Self.scopes[limit]) { try await clock.sleep(until: send) }
        }
        // A 429 may have arrived while this request waited: honour that pause too.
        while let pausedUntil {
            let remaining = pausedUntil.timeIntervalSince(await clock.now())
            guard remaining > 0 else { break }
            stats.waitedByLimit["throttled", default: 0] += remaining
            try await clock.sleep(until: pausedUntil)
        }
        return app
    }

    /// Learns from a response: its status, `Retry-After`, `x-ms-resource-unit` and `x-ms-throttle-limit-percentage`.
    /// `app` is the app registration ``admit(_:paths:)`` chose, `path` the request's path: a 429 without Retry-After
    /// from an endpoint with its own limit (Conditional Access answers so) holds back that endpoint's next request by
    /// one interval of its pace, not every request by exponential backoff.
    package func observe(status: Int, headers: [String: String], estimated: RequestCost, app: Int = 0, path: String = "") async {
        let now = await clock.now()
        let app = units.indices.contains(app) ? app : 0
        if let actual = headers["x-ms-resource-unit"].flatMap(Double.init) {
            units[app].record(actual - estimated.resourceUnits, at: max(now, lastSlot ?? now))
        }
        if status == 429 {
            let retryAfter = headers["retry-after"].flatMap(Double.init)
            if retryAfter == nil, let endpoint = configuration.endpointLimits.first(where: { $0.matches(path) }) {
                stats.throttled += 1
                endpointThrottled(endpoint, now: now)
                return
            }
            throttled(retryAfter: retryAfter, now: now)
            return
        }
        consecutiveThrottles = 0
        // What this governor admitted itself explains the usage Graph reports after a burst; only usage beyond it
        // (other clients of the same quota) is a reason to slow down.
        let own = max(writes[app].usage(at: now), units[app].usage(at: now))
        if let usage = headers["x-ms-throttle-limit-percentage"].flatMap(Double.init).map({ $0 > 2 ? $0 / 100 : $0 }),
            usage >= configuration.highUsage, usage > own + 0.1
        {
            // Close to the limit: slow down, at most once a second so a burst of answers does not collapse the rate.
            if lastSlowdown.map({ now.timeIntervalSince($0) >= 1 }) ?? true {
                factor = max(configuration.minimumFactor, factor * 0.9)
                lastSlowdown = now
            }
        } else if (200..<500).contains(status) {
            factor = min(1, factor + configuration.recoveryStep)
        }
    }

    /// A 429 from an endpoint paced at its own limit: its next request goes one interval of that pace from now.
    private func endpointThrottled(_ endpoint: EndpointLimit, now: Date) {
        endpointSlots[endpoint.name] = max(endpointSlots[endpoint.name] ?? now, now)
    }

    /// Records a 429: pauses every request and halves the share of each quota used.
    package func throttled(retryAfter: Double?) async {
        throttled(retryAfter: retryAfter, now: await clock.now())
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
    }
}

/// One request at a time per paced endpoint, first come, first served: ``ThroughputGovernor`` takes a turn before it
/// reserves a request's slot and gives it back once the answer is in.
final class EndpointTurns: Sendable {
    private struct State {
        var busy: Set<String> = []
        var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())

    /// Returns when `name` is this caller's turn.
    func take(_ name: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.busy.insert(name).inserted { return true }
                state.waiting[name, default: []].append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the turn of `name` to the next waiting caller, or frees it.
    func release(_ name: String) {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if var queue = state.waiting[name], !queue.isEmpty {
                let next = queue.removeFirst()
                state.waiting[name] = queue
                return next
            }
            state.busy.remove(name)
            return nil
        }
        next?.resume()
    }
}

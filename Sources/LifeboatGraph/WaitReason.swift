/// Why a task is waiting on its clock, so a simulated clock can say where the simulated time went
/// (an RTO estimate splits it into throttling, retries, polling and people).
///
/// Set with `WaitReason.$current.withValue(.throttling) { … }` around a sleep; unset waits count as ``other``.
package enum WaitReason: String, Sendable, Hashable, CaseIterable, Codable {
    /// Graph answered 429 (Retry-After), or a governor held the request back under the quota.
    case throttling
    /// Backoff after a transient failure (5xx, a dropped connection) or replication lag.
    case retry
    /// Polling for something outside Lifeboat's control, e.g. a domain's DNS TXT record.
    case polling
    /// People's work: a gate's duration, an operator skipping the clock ahead.
    case people
    /// The operator's machine was down between a crash and the resume.
    case interruption
    /// Any other wait.
    case other

    /// The reason of the waits the current task makes.
    @TaskLocal package static var current: WaitReason?
}

/// Which of Graph's limits a throttling wait is for (throttling-limits.md), so a simulated clock can split the
/// throttling time per limit: the `x-ms-throttle-scope` of the 429 that asked for the wait, or the limit a
/// ``ThroughputGovernor`` held the request back for. Unset when the answer named none.
///
/// Set with `ThrottleScope.$current.withValue(scope) { … }` around a sleep.
package enum ThrottleScope {
    /// The scope of the waits the current task makes.
    @TaskLocal package static var current: String?

    /// Writes per app and tenant (3,000 per 150 s).
    package static let appWrites = "Tenant_Application/Writes"
    /// Writes per tenant, all apps (18,000 per 300 s).
    package static let tenantWrites = "Tenant/Writes"
    /// Resource units per app and tenant (3,500–8,000 per 10 s).
    package static let resourceUnits = "Tenant_Application/ResourceUnits"
    /// Identity protection and Conditional Access: 1 request per second per tenant.
    package static let conditionalAccess = "Tenant/ConditionalAccess"
}

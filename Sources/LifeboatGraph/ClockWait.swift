/// Why a task waits on its ``GraphClock``, so that a simulated clock can say where recovery time went
/// (a tabletop's throttling component is the time the clock moved because requests waited for Graph's quotas).
public enum ClockWait: String, Sendable, Hashable, CaseIterable {
    /// Waiting out a 429 (Retry-After or backoff), or held back by the ``ThroughputGovernor`` under a quota.
    case throttling
    /// Anything else: backoff after transient failures or replication lag, polling, people's time at gates.
    case other

    /// The reason for the current task's waits (`nil` reads as ``other``).
    @TaskLocal public static var reason: ClockWait?
}

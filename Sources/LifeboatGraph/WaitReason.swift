/// Why a task is waiting on its clock, so a simulated clock can say where the simulated time went
/// (an RTO estimate splits it into throttling, retries, polling and people).
///
/// Set with `WaitReason.$current.withValue(.throttling) { … }` around a sleep; unset waits count as ``other``.
public enum WaitReason: String, Sendable, Hashable, CaseIterable, Codable {
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
    @TaskLocal public static var current: WaitReason?
}

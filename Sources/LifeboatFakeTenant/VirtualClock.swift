import Foundation
import LifeboatGraph
import Synchronization

/// Simulated time for tabletops: waiting (throttling, backoff) advances the clock instantly, so a
/// rebuild of a large tenant at Graph's real limits runs in seconds and reports simulated hours.
///
/// Waits are deadlines: concurrent waiters for the same deadline move the clock once. The clock never goes back.
/// Every move is booked under the ``WaitReason`` of the task that made it (``waited``), so the simulated time of a
/// run splits exactly into throttling, retries, polling and people.
package final class VirtualClock: GraphClock, Sendable {
    private let current: Mutex<Date>
    private let ledger = Mutex<[WaitReason: Double]>([:])
    private let scopes = Mutex<[String: Double]>([:])
    /// When the simulation started.
    package let start: Date

    /// Simulated time zero for tabletops (2026-01-01T00:00:00Z); events record seconds since it.
    package static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    package init(start: Date = VirtualClock.epoch) {
        self.start = start
        current = Mutex(start)
    }

    /// The simulated time, synchronously (for the fake tenant's quota arithmetic).
    package var instant: Date { current.withLock { $0 } }

    /// Seconds of simulated time since the start.
    package var elapsed: Double { instant.timeIntervalSince(start) }

    package func now() async -> Date { instant }

    package func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try Task.checkCancellation()
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
        book(seconds, WaitReason.current ?? .other)
        await Task.yield()
    }

    package func sleep(until deadline: Date) async throws {
        try Task.checkCancellation()
        let moved = current.withLock { now in
            let before = now
            now = max(now, deadline)
            return now.timeIntervalSince(before)
        }
        book(moved, WaitReason.current ?? .other)
        await Task.yield()
    }

    /// Moves the clock forward by `seconds` (gates, people's work, injected delays), booked under `reason` when given;
    /// without one (restoring a resumed run's clock) the move is not a wait of this session.
    package func advance(by seconds: Double, reason: WaitReason? = nil) {
        guard seconds > 0 else { return }
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
        if let reason { book(seconds, reason) }
    }

    /// Simulated seconds this clock moved forward, by why it moved, since it was created.
    package var waited: [WaitReason: Double] { ledger.withLock { $0 } }

    /// Simulated seconds of throttling, by the limit waited for (``ThrottleScope``; `unknown` when the wait named none).
    package var waitedByThrottleScope: [String: Double] { scopes.withLock { $0 } }

    private func book(_ seconds: Double, _ reason: WaitReason) {
        guard seconds > 0 else { return }
        ledger.withLock { $0[reason, default: 0] += seconds }
        if reason == .throttling { scopes.withLock { $0[ThrottleScope.current ?? "unknown", default: 0] += seconds } }
    }
}

import Foundation
import LifeboatGraph
import Synchronization

/// Simulated time for tabletops: waiting (throttling, backoff) advances the clock instantly, so a
/// rebuild of a large tenant at Graph's real limits runs in seconds and reports simulated hours.
///
/// Waits are deadlines: concurrent waiters for the same deadline move the clock once. The clock never goes back.
public final class VirtualClock: GraphClock, Sendable {
    private let current: Mutex<Date>
    /// When the simulation started.
    public let start: Date

    /// Simulated time zero for tabletops (2026-01-01T00:00:00Z); events record seconds since it.
    public static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    public init(start: Date = VirtualClock.epoch) {
        self.start = start
        current = Mutex(start)
    }

    /// The simulated time, synchronously (for the fake tenant's quota arithmetic).
    public var instant: Date { current.withLock { $0 } }

    /// Seconds of simulated time since the start.
    public var elapsed: Double { instant.timeIntervalSince(start) }

    public func now() async -> Date { instant }

    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try Task.checkCancellation()
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
        await Task.yield()
    }

    public func sleep(until deadline: Date) async throws {
        try Task.checkCancellation()
        current.withLock { $0 = max($0, deadline) }
        await Task.yield()
    }

    /// Moves the clock forward by `seconds` (gates, people's work, injected delays).
    public func advance(by seconds: Double) {
        guard seconds > 0 else { return }
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}

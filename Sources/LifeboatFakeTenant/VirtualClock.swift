import Foundation
import LifeboatGraph
import Synchronization

/// Simulated time for tabletops: waiting (throttling, backoff) advances the clock instantly, so a
/// rebuild of a large tenant at Graph's real limits runs in seconds and reports simulated hours.
///
/// Waits are deadlines: concurrent waiters for the same deadline move the clock once. The clock never goes back.
/// Each forward move is attributed to the waiting task's ``ClockWait/reason``, so a tabletop can say how
/// much of its simulated time went to waiting for Graph's quotas.
public final class VirtualClock: GraphClock, Sendable {
    private struct State {
        var now: Date
        var moved: [ClockWait: Double] = [:]
    }

    private let current: Mutex<State>
    /// When the simulation started.
    public let start: Date

    /// Simulated time zero for tabletops (2026-01-01T00:00:00Z); events record seconds since it.
    public static let epoch = Date(timeIntervalSince1970: 1_767_225_600)

    public init(start: Date = VirtualClock.epoch) {
        self.start = start
        current = Mutex(State(now: start))
    }

    /// The simulated time, synchronously (for the fake tenant's quota arithmetic).
    public var instant: Date { current.withLock { $0.now } }

    /// Seconds of simulated time since the start.
    public var elapsed: Double { instant.timeIntervalSince(start) }

    /// Seconds the clock moved forward because tasks waited for this reason (since this clock was created).
    public func seconds(waiting reason: ClockWait) -> Double { current.withLock { $0.moved[reason] ?? 0 } }

    public func now() async -> Date { instant }

    public func sleep(seconds: Double) async throws {
        guard seconds > 0 else { return }
        try Task.checkCancellation()
        move(to: nil, by: seconds)
        await Task.yield()
    }

    public func sleep(until deadline: Date) async throws {
        try Task.checkCancellation()
        move(to: deadline, by: 0)
        await Task.yield()
    }

    /// Moves the clock forward by `seconds` (gates, people's work, injected delays).
    public func advance(by seconds: Double) {
        guard seconds > 0 else { return }
        move(to: nil, by: seconds)
    }

    private func move(to deadline: Date?, by seconds: Double) {
        let reason = ClockWait.reason ?? .other
        current.withLock { state in
            let target = deadline.map { max(state.now, $0) } ?? state.now.addingTimeInterval(seconds)
            let moved = target.timeIntervalSince(state.now)
            if moved > 0 { state.moved[reason, default: 0] += moved }
            state.now = target
        }
    }
}

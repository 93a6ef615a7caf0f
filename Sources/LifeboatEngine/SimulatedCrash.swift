import Synchronization

/// A point at which a tabletop makes the process die with SIGKILL, to rehearse a crash and resume.
package struct SimulatedCrash: Sendable, Hashable {
    package enum Point: String, Sendable, CaseIterable {
        /// After intents are committed, before the writes are sent.
        case intent
        /// After the target applied a write, before its result is committed.
        case response
        /// After results are committed.
        case result
    }
    package var point: Point
    /// Die once this many operations have passed the point (counted in this process).
    package var afterOperations: Int
    /// Only count operations of this stage, when given.
    package var stageID: String?

    package init(point: Point, afterOperations: Int, stageID: String? = nil) {
        self.point = point
        self.afterOperations = afterOperations
        self.stageID = stageID
    }

    /// Parses `point:count` or `point:count@stage`, e.g. `response:25@users`.
    package init?(_ text: String) {
        let (spec, stage) = text.split(separator: "@", maxSplits: 1).map(String.init).splitFirst()
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let point = Point(rawValue: String(parts[0])), let count = Int(parts[1]), count > 0 else { return nil }
        self.init(point: point, afterOperations: count, stageID: stage)
    }
}

extension Array where Element == String {
    fileprivate func splitFirst() -> (String, String?) { (self.first ?? "", self.count > 1 ? self[1] : nil) }
}

/// Counts operations past a crash point across concurrent tasks.
final class CrashCounter: Sendable {
    private let count = Mutex(0)
    func add(_ value: Int) -> Int {
        count.withLock { total in
            total += value
            return total
        }
    }
}

import Foundation
import HeapModule

/// Objects created within the profile's replication lag: lists, `$filter`, `$count` and references do not show them yet
/// (concepts/aad-advanced-queries.md, concepts/known-issues.md: eventual consistency). In memory only.
///
/// Objects leave as soon as their moment passes, whoever asks, so a list that holds none of them is served as it is:
/// filtering a 100,000-member list through every object's visibility cost a third of a 100,000-user tabletop.
struct ReplicationLag {
    private struct Due: Comparable {
        var at: Date
        var id: String
        static func < (lhs: Due, rhs: Due) -> Bool { lhs.at < rhs.at }
    }

    /// Each waiting object's moment and type (the type finds it again in ``byType``).
    private var visibleAfter: [String: (moment: Date, type: String)] = [:]
    private var byType: [String: Set<String>] = [:]
    private var due = Heap<Due>()

    /// Nothing is waiting to replicate.
    var isEmpty: Bool { visibleAfter.isEmpty }

    /// How many objects are waiting to replicate.
    var count: Int { visibleAfter.count }

    /// `id` of `type` becomes visible at `moment`.
    mutating func hide(_ id: String, type: String, until moment: Date) {
        if let previous = visibleAfter[id]?.type, previous != type { byType[previous]?.remove(id) }
        visibleAfter[id] = (moment, type)
        byType[type, default: []].insert(id)
        due.insert(Due(at: moment, id: id))
    }

    /// Lets through every object whose moment has come by `now`.
    mutating func advance(to now: Date) {
        while let next = due.min, next.at <= now {
            _ = due.removeMin()
            // A stale entry (the object was hidden again for a later moment) stays until its own moment.
            guard let waiting = visibleAfter[next.id], waiting.moment <= now else { continue }
            visibleAfter[next.id] = nil
            byType[waiting.type]?.remove(next.id)
            if byType[waiting.type]?.isEmpty == true { byType[waiting.type] = nil }
        }
    }

    /// Whether `id` is still waiting (call ``advance(to:)`` first).
    func isHidden(_ id: String) -> Bool { visibleAfter[id] != nil }

    /// The objects of `type` still waiting.
    func hidden(ofType type: String) -> Set<String> { byType[type] ?? [] }

    /// Every object still waiting.
    var hiddenIDs: some Collection<String> { visibleAfter.keys }
}

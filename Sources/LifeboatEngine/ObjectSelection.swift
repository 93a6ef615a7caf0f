import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// The `where` and `memberOf` options that narrow a stage to part of the snapshot, so that a partial
/// restore is a runbook, not a code change.
///
/// `where` maps property names to values (`department: Finance`, `userPrincipalName: "*@contoso.com"`; a `*` at
/// either end is a wildcard; several entries must all match). `memberOf` names groups (display name or
/// source id) whose direct members are selected.
package struct ObjectSelection: Sendable {
    package var conditions: [String: String]
    package var memberOf: Set<String>

    /// The options every selectable stage kind accepts.
    package static let options = [
        OptionSpec(
            "where", .stringMap, "only objects whose properties match, e.g. `department: Finance` or `userPrincipalName: \"*@contoso.com\"`"
        ),
        OptionSpec("memberOf", .stringList, "only direct members of these groups (display names or source ids)"),
    ]

    package init(_ options: StageOptions) {
        conditions = options.stringMap("where") ?? [:]
        memberOf = Set(options.stringList("memberOf") ?? [])
    }

    /// True when the stage restores everything.
    package var isEverything: Bool { conditions.isEmpty && memberOf.isEmpty }

    /// The ids of the source objects that are direct members of the named groups.
    package func members(in snapshot: Snapshot) -> Set<String> {
        var ids = Set<String>()
        for group in snapshot.groups where memberOf.contains(group.id) || memberOf.contains(group.displayName) {
            ids.formUnion(group.members.map(\.id))
        }
        return ids
    }

    /// Whether an object is selected (`memberIDs` from ``members(in:)``).
    package func selects(_ object: some DirectoryObject, memberIDs: Set<String>) -> Bool {
        if !memberOf.isEmpty, !memberIDs.contains(object.id) { return false }
        for (property, pattern) in conditions {
            let value = object[property: property]
            let text: String
            switch value {
            case .string(let string)?: text = string
            case .bool(let bool)?: text = String(bool)
            case .number(let number)?: text = String(number)
            default: return false
            }
            if !Self.matches(text, pattern) { return false }
        }
        return true
    }

    static func matches(_ text: String, _ pattern: String) -> Bool {
        let lower = text.lowercased(), p = pattern.lowercased()
        switch (p.hasPrefix("*"), p.hasSuffix("*")) {
        case (true, true) where p.count >= 2: return lower.contains(p.dropFirst().dropLast())
        case (true, _): return lower.hasSuffix(p.dropFirst())
        case (_, true): return lower.hasPrefix(p.dropLast())
        default: return lower == p
        }
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `verify`: reads the target back and compares every restored user, group (with members and owners),
/// administrative unit, named location and Conditional Access policy with the snapshot, modulo the ID
/// map. One check per object; a difference is recorded (and reported) without stopping the run.
struct Verify: StageKind {
    static let spec = StageKindSpec(
        name: "verify",
        summary:
            "reads the target back (users, groups and administrative units with `$select` of the compared properties: Graph returns only a default set otherwise) and compares every restored user, group (with members and owners), administrative unit, named location and policy with the snapshot, modulo the ID map; differences become follow-ups and the report's verification section",
        options: [])

    /// Target collections, read once per stage (list calls with `$top=999`, not one read per object), each object kept
    /// as its compact JSON: a third of the memory of the parsed objects, which were the largest thing a 100,000-user
    /// tabletop held (244 MB).
    let target = SharedReads<[String: Data]>()
    /// Custom authentication strengths restored in this run (source id → target id).
    let strengths = SharedReads<[String: String]>()

    /// The properties each directory collection is read with. Graph returns only a default set of properties unless
    /// `$select` names more (user-list.md, user-get.md): without it nearly every user would show false differences.
    static let selected: [String: String] = [
        "/users": (["id"] + WritableProperties.user.sorted()).joined(separator: ","),
        "/groups": (["id"] + WritableProperties.group.sorted()).joined(separator: ","),
        "/directory/administrativeUnits": (["id"] + AdminUnitsCreate.writable.sorted()).joined(separator: ","),
    ]

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    var writesToTarget: Bool { false }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var operations: [PlannedOperation] = []
        func add(_ object: some DirectoryObject, _ type: ObjectType) {
            operations.append(
                PlannedOperation(
                    key: "verify:\(type.rawValue):\(object.id)", objectType: nil, sourceID: object.id, naturalKey: nil,
                    displayName: object.displayName, detail: ["type": .string(type.rawValue)]))
        }
        for user in snapshot.users where !user.onPremisesSyncEnabled { add(user, .user) }
        for group in snapshot.groups { add(group, .group) }
        for unit in snapshot.administrativeUnits { add(unit, .administrativeUnit) }
        for location in snapshot.namedLocations { add(location, .namedLocation) }
        for policy in snapshot.conditionalAccessPolicies { add(policy, .conditionalAccessPolicy) }
        return StagePlan(operations: operations)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let typeName = operation.detail["type"]?.stringValue, let type = ObjectType(rawValue: typeName) else {
            return OperationOutcome(.unchanged)
        }
        guard let newID = context.idMap.newID(for: operation.sourceID) else {
            return difference(operation, ["not restored (no ID-map entry)"])
        }
        let collection: String
        let expected: JSONObject
        var checkMembers: Group?
        switch type {
        case .user:
            guard let user = context.index.users[operation.sourceID] else { return OperationOutcome(.unchanged) }
            expected =
                user.isGuest
                ? ["displayName": user.properties["displayName"] ?? .null]
                : WritableProperties.pick(user.properties, WritableProperties.user.subtracting(["userType"]))
            collection = "/users"
        case .group:
            guard let group = context.index.groups[operation.sourceID] else { return OperationOutcome(.unchanged) }
            var properties = WritableProperties.pick(group.properties, WritableProperties.group)
            if !group.isDynamic { properties["membershipRule"] = nil; properties["membershipRuleProcessingState"] = nil }
            expected = properties
            collection = "/groups"
            checkMembers = group
        case .administrativeUnit:
            expected = WritableProperties.pick(
                context.snapshot.administrativeUnits.first { $0.id == operation.sourceID }?.properties ?? [:],
                AdminUnitsCreate.writable)
            collection = "/directory/administrativeUnits"
        case .namedLocation:
            expected = (context.snapshot.namedLocations.first { $0.id == operation.sourceID }?.properties ?? [:])
                .filter { !NamedLocationsCreate.readOnly.contains($0.key) }
            collection = "/identity/conditionalAccess/namedLocations"
        case .conditionalAccessPolicy:
            guard let policy = context.snapshot.conditionalAccessPolicies.first(where: { $0.id == operation.sourceID }) else {
                return OperationOutcome(.unchanged)
            }
            let restored = try await strengths.value("strengths") {
                try await AuthenticationStrengthsCreate.restored(in: context.checkpoint)
            }
            // What conditionalAccess.create sent: references remapped, annotations stripped, strengths by id.
            let remapped = PolicyReferences.stripAnnotations(
                PolicyReferences.remap(policy.properties, snapshot: context.snapshot, idMap: context.idMap, strengths: restored).policy)
            expected = [
                "displayName": policy.properties["displayName"] ?? .null, "conditions": remapped["conditions"] ?? .null,
                "grantControls": remapped["grantControls"] ?? .null,
            ]
            collection = "/identity/conditionalAccess/policies"
        default:
            return OperationOutcome(.unchanged)
        }
        var listed = try await target.object(newID, in: collection, graph: context.graph)
        if listed == nil {
            // Lists lag behind writes: an object written seconds before the list was read is read by id before it is called missing.
            var query: [QueryItem] = []
            if let select = Verify.selected[collection] { query.append(QueryItem("$select", select)) }
            listed = try? await FollowOnWrite.readingJustCreated(in: context) {
                try await context.graph.get("\(collection)/\(newID)", query: query)
            }
        }
        guard let actual = listed else {
            return difference(operation, ["missing from the target (\(newID))"])
        }
        var differences = Self.compare(expected, actual, path: "")
        if let group = checkMembers, !group.isDynamic {
            for (relation, references) in [("members", group.members), ("owners", group.owners)] {
                let wanted = Set(references.compactMap { context.idMap.newID(for: $0.id) })
                let present = try await TargetLookup.relationshipIDs(context.graph, groupID: newID, relationship: relation)
                let missing = wanted.subtracting(present).count, extra = present.subtracting(wanted).count
                if missing > 0 || extra > 0 { differences.append("\(relation): \(missing) missing, \(extra) unexpected") }
            }
        }
        return differences.isEmpty ? OperationOutcome(.applied, newID: newID, note: "matches") : difference(operation, differences)
    }

    func difference(_ operation: PlannedOperation, _ differences: [String]) -> OperationOutcome {
        OperationOutcome(
            .skipped,
            followUps: [
                FollowUp(
                    category: "verify-difference",
                    message:
                        "\(operation.detail["type"]?.stringValue ?? "object") \(operation.displayName): \(differences.joined(separator: "; "))",
                    action: "compare with the snapshot and correct by hand, or rerun the stage that restores it")
            ])
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }

    /// Differences between the expected properties and the target's, as readable lines.
    static func compare(_ expected: JSONObject, _ actual: JSONObject, path: String) -> [String] {
        var differences: [String] = []
        for (key, value) in expected.sorted(by: { $0.key < $1.key }) {
            let name = path.isEmpty ? key : "\(path).\(key)"
            let other = actual[key] ?? .null
            if case .object(let nested) = value, case .object(let otherNested) = other {
                differences += compare(nested, otherNested, path: name)
            } else if !equivalent(value, other) {
                differences.append("\(name): expected \(JSONCoding.string(value).prefix(80)), found \(JSONCoding.string(other).prefix(80))")
            }
        }
        return differences
    }

    /// Equal, treating arrays of strings as sets (Graph does not promise their order).
    static func equivalent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if a == b { return true }
        if let x = a.stringArray, let y = b.stringArray { return Set(x.map { $0.lowercased() }) == Set(y.map { $0.lowercased() }) }
        if case .array(let x) = a, x.isEmpty, b.isNull { return true }
        if a.isNull, case .array(let y) = b, y.isEmpty { return true }
        return false
    }
}

extension SharedReads where Value == [String: Data] {
    /// An object of a target collection, by id; the collection is listed once and shared by a stage's operations.
    func object(_ id: String, in collection: String, graph: GraphClient) async throws -> JSONObject? {
        let compact = try await value(collection) {
            var query = collection.hasPrefix("/identity") ? [] : [QueryItem("$top", "999")]
            if let select = Verify.selected[collection] { query.append(QueryItem("$select", select)) }
            var objects: [String: Data] = [:]
            try await graph.list(collection, query: query) { page in
                for item in page {
                    guard let id = item["id"]?.stringValue, objects[id] == nil else { continue }
                    objects[id] = try JSONCoding.encode(.object(item))
                }
            }
            return objects
        }[id]
        return try compact.map { try JSONCoding.decode($0).objectValue ?? [:] }
    }
}

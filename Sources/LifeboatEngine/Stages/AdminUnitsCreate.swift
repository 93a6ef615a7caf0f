import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `adminUnits.create`: recreates administrative units (found again by display name; an ambiguous name is flagged).
struct AdminUnitsCreate: StageKind {
    static let spec = StageKindSpec(
        name: "adminUnits.create", summary: "administrative units (with `isMemberManagementRestricted`)", options: [adoptOption])

    /// `isMemberManagementRestricted` (a restricted management unit) can only be set when the unit is created (administrativeUnit in the CSDL).
    static let writable: Set<String> = [
        "displayName", "description", "visibility", "membershipType", "membershipRule", "membershipRuleProcessingState",
        "isMemberManagementRestricted",
    ]

    let adoptExisting: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        adoptExisting = stage.options.bool("adoptExisting") ?? true
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.administrativeUnits.map {
                PlannedOperation(
                    key: "adminUnit:\($0.id)", objectType: .administrativeUnit, sourceID: $0.id, naturalKey: $0.displayName,
                    displayName: $0.displayName)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        guard let unit = context.snapshot.administrativeUnits.first(where: { $0.id == operation.sourceID }) else {
            throw StageOperationError(code: "SnapshotMismatch", message: "administrative unit \(operation.sourceID) is not in the snapshot")
        }
        let body = WritableProperties.pick(unit.properties, Self.writable)
        let created = try await context.graph.send(GraphRequest("POST", "/directory/administrativeUnits", body: .object(body)))
        guard let id = created.object["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "no id returned")
        }
        return OperationOutcome(.created, newID: id)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await DisplayNameLookup.adopt(operation, in: context, collection: "/directory/administrativeUnits")
    }
}

/// `adminUnits.members`: adds administrative unit members one `$ref` at a time.
struct AdminUnitsMembers: StageKind {
    static let spec = StageKindSpec(
        name: "adminUnits.members", summary: "members of administrative units; dynamic units get no member adds (their rule fills them)",
        options: [])

    /// Each unit's member ids in the target, listed once per settling round for all the look-ups of that round.
    let unitMembers = SettlingListings<Set<String>>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    /// Whether the unit's members come from its membership rule: Graph fills them itself and refuses adds.
    static func isDynamic(_ unit: AdministrativeUnit) -> Bool {
        unit.properties["membershipType"]?.stringValue?.lowercased() == "dynamic"
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        var plan = StagePlan()
        let dynamic = snapshot.administrativeUnits.filter(Self.isDynamic)
        if !dynamic.isEmpty {
            plan.warnings.append("\(dynamic.count) dynamic administrative units get their members from their rule, not from this stage")
        }
        for unit in snapshot.administrativeUnits where !Self.isDynamic(unit) {
            for member in unit.members.sorted(by: { $0.id < $1.id }) {
                plan.operations.append(
                    PlannedOperation(
                        key: "auMember:\(unit.id):\(member.id)", objectType: nil, sourceID: unit.id, naturalKey: nil,
                        displayName: "\(unit.displayName) member \(member.id)",
                        detail: ["member": .string(member.id), "type": .string(member.typeName)]))
            }
        }
        return plan
    }

    func resolve(_ operation: PlannedOperation, in context: StageContext) -> (unit: String, member: String)? {
        guard let unit = context.idMap.newID(for: operation.sourceID), let old = operation.detail["member"]?.stringValue,
            let member = context.idMap.newID(for: old)
        else { return nil }
        return (unit, member)
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let (unit, member) = resolve(operation, in: context) else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference",
                        message:
                            "\(operation.detail["type"]?.stringValue ?? "member") \(operation.detail["member"]?.stringValue ?? "?") of \(operation.displayName.components(separatedBy: " member ").first ?? "") was not restored",
                        action: "add it to the administrative unit by hand once it exists")
                ])
        }
        do {
            _ = try await context.graph.send(
                GraphRequest(
                    "POST", "/directory/administrativeUnits/\(unit)/members/$ref",
                    body: ["@odata.id": .string("\(context.graph.baseURL)/directoryObjects/\(member)")]))
            return OperationOutcome(.applied)
        } catch let error as GraphError where error.status == 400 && error.isAlreadyExists {
            return OperationOutcome(.unchanged)
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        guard let (unit, member) = resolve(operation, in: context) else { return nil }
        // One listing of the unit's members serves every look-up of the same round (a unit has thousands of members, and
        // a resume looks up each write that was in flight); a miss after an unknown outcome waits out the list lag.
        let graph = context.graph
        let found = try await TargetLookup.listed(
            graph, in: unitMembers, key: unit,
            read: {
                let members = try await graph.list("/directory/administrativeUnits/\(unit)/members", query: [QueryItem("$select", "id")])
                return Set(members.compactMap { $0["id"]?.stringValue })
            }, find: { $0.contains(member) ? true : nil })
        return found == true ? OperationOutcome(.applied) : nil
    }
}

/// What the executor tells a stage's `reconcile` about why it is called.
package enum Reconciliation {
    /// `true` while a write whose outcome is unknown (a lost response, a crash between intent and result) is looked up:
    /// a miss may be list lag, so look-ups without an alternate key wait for the lists to settle before answering "absent".
    @TaskLocal package static var afterUnknownOutcome = false
    /// While a write whose outcome is unknown is looked up: a moment by which it had been sent (when the resumed stage
    /// started, or when its ambiguous failure came back), so a listing that started since then can show it.
    @TaskLocal package static var sentBefore: Date? = nil
}

/// The `adoptExisting` option of kinds found again by display name (in-place restores).
let adoptOption = OptionSpec(
    "adoptExisting", .bool,
    "look for an object of the same display name in the target first and adopt it (default true; false always creates)")

/// Reconciliation by display name, for objects Graph gives no alternate key (policies, named locations, admin units).
enum DisplayNameLookup {
    /// After a write whose outcome is unknown, how long a miss is looked up again before the object is taken as absent:
    /// Graph's lists and `$filter` lag behind writes by seconds, and a miss read as "absent" would create a duplicate.
    static let settleDelays: [Double] = [2, 4, 8, 16, 30]

    static func adopt(_ operation: PlannedOperation, in context: StageContext, collection: String) async throws -> OperationOutcome? {
        guard let name = operation.naturalKey else { return nil }
        let query = [QueryItem("$filter", "displayName eq \(GraphClient.literal(name))")]
        let read = { () async throws -> [JSONObject]? in
            let items = try await context.graph.list(collection, query: query)
            return items.isEmpty ? nil : items
        }
        let found = try await (Reconciliation.afterUnknownOutcome ? TargetLookup.settling(context.graph, read) : read()) ?? []
        guard let first = found.first, let id = first["id"]?.stringValue else { return nil }
        let followUps =
            found.count > 1
            ? [
                FollowUp(
                    category: "ambiguous-match", message: "\(found.count) objects named \"\(name)\" exist in \(collection); adopted \(id)",
                    action: "check which one is the restored object and delete the others")
            ] : []
        return OperationOutcome(.adopted, newID: id, followUps: followUps)
    }
}

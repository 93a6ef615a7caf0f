import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `namedLocations.create`: IP and country named locations for Conditional Access (1 request/s per tenant in Graph).
struct NamedLocationsCreate: StageKind {
    static let spec = StageKindSpec(name: "namedLocations.create", summary: "IP and country named locations", options: [adoptOption])

    static let readOnly: Set<String> = ["id", "createdDateTime", "modifiedDateTime"]

    let adoptExisting: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        adoptExisting = stage.options.bool("adoptExisting") ?? true
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.namedLocations.map {
                PlannedOperation(
                    key: "namedLocation:\($0.id)", objectType: .namedLocation, sourceID: $0.id, naturalKey: $0.displayName,
                    displayName: $0.displayName)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        if adoptExisting, let existing = try await reconcile(operation, in: context) { return existing }
        guard let location = context.snapshot.namedLocations.first(where: { $0.id == operation.sourceID }) else {
            throw StageOperationError(code: "SnapshotMismatch", message: "named location \(operation.sourceID) is not in the snapshot")
        }
        let body = location.properties.filter { !Self.readOnly.contains($0.key) }
        let created = try await context.graph.send(GraphRequest("POST", "/identity/conditionalAccess/namedLocations", body: .object(body)))
        guard let id = created.object["id"]?.stringValue else {
            throw StageOperationError(code: "MalformedResponse", message: "no id returned")
        }
        return OperationOutcome(.created, newID: id)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        try await DisplayNameLookup.adopt(operation, in: context, collection: "/identity/conditionalAccess/namedLocations")
    }
}

import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `domains.add`: adds the source's custom domains to the target (unverified until `domains.verify`).
struct DomainsAdd: StageKind {
    static let spec = StageKindSpec(name: "domains.add", summary: "the snapshot's custom domains (unverified)", options: [])

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    /// Custom domains: not the initial domain and not `*.onmicrosoft.com`, parents before subdomains.
    static func customDomains(_ snapshot: Snapshot) -> [Domain] {
        snapshot.domains.filter { !$0.isInitial && !$0.id.hasSuffix(".onmicrosoft.com") }
            .sorted { ($0.id.split(separator: ".").count, $0.id) < ($1.id.split(separator: ".").count, $1.id) }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: Self.customDomains(snapshot).map {
                PlannedOperation(key: "domain:\($0.id)", objectType: .domain, sourceID: $0.id, naturalKey: $0.id, displayName: $0.id)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        do {
            _ = try await context.graph.send(GraphRequest("POST", "/domains", body: ["id": .string(operation.sourceID)]))
            return OperationOutcome(.created, newID: operation.sourceID)
        } catch let error as GraphError where error.status == 409 || error.isAlreadyExists {
            // The domain exists; a read by id may lag behind the write that made it.
            if let found = try await TargetLookup.settling(context.graph, { try await reconcile(operation, in: context) }) { return found }
            throw error
        }
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let read = { () async throws -> OperationOutcome? in
            do {
                _ = try await context.graph.get("/domains/\(operation.sourceID)")
                return OperationOutcome(.adopted, newID: operation.sourceID)
            } catch let error as GraphError where error.status == 404 {
                return nil
            }
        }
        return Reconciliation.afterUnknownOutcome ? try await TargetLookup.settling(context.graph, read) : try await read()
    }
}

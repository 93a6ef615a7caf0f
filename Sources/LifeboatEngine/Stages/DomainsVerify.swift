import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// `domains.verify`: shows the TXT record each domain needs and polls `verify` with backoff until it
/// succeeds or the stage's `timeout` passes; a domain still unverified becomes a follow-up (publish, then resume).
/// Subdomains are verified with their root.
///
/// A domain still verified in another tenant (the old one, in a hostage case) never verifies here until it is removed
/// there: its first such answer stops the polling at once and becomes one follow-up with the fix, and the users of the
/// domain stay on the recovery domain (users.rename leaves them). domain-verify.md documents no error for it; Graph's
/// answer is a 400 whose message says the domain is in use by another tenant (see ``isHeldByAnotherTenant(_:)``).
struct DomainsVerify: StageKind {
    static let spec = StageKindSpec(
        name: "domains.verify",
        summary:
            "records the TXT record to publish and polls `verify` with backoff; subdomains follow their root. A domain still verified in another tenant (the old one, held hostage) stops polling at its first such answer and becomes one `domain-held` follow-up with the fix; its users stay on the recovery domain",
        options: [
            OptionSpec("timeout", .duration, "how long to keep polling each domain (default 1h)"),
            OptionSpec(
                "onTimeout", .string,
                "`fail` (default: the run stops so the record can be published, then resumes) or `skip` (continue with a follow-up)"),
        ])

    let timeout: Double
    let skipOnTimeout: Bool

    init(stage: Runbook.Stage) throws(StageConfigurationError) {
        timeout = stage.options.duration("timeout") ?? 3_600
        switch stage.options.string("onTimeout") ?? "fail" {
        case "fail": skipOnTimeout = false
        case "skip": skipOnTimeout = true
        case let other: throw StageConfigurationError(stageID: stage.id, problem: "onTimeout must be fail or skip, not \(other)")
        }
    }

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: DomainsAdd.customDomains(snapshot).map {
                PlannedOperation(key: "verify:\($0.id)", objectType: nil, sourceID: $0.id, naturalKey: $0.id, displayName: $0.id)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        let name = operation.sourceID
        if let done = try await reconcile(operation, in: context) { return done }
        let record = try await context.graph.list("/domains/\(name)/verificationDnsRecords").first {
            $0["recordType"]?.stringValue == "Txt"
        }
        let text = record?["text"]?.stringValue ?? "(see the Entra admin center)"
        try await context.checkpoint.append(.domainTXT(stageID: context.stage.id, domain: name, record: text), simulated: nil)
        let started = await context.graph.clock.now()
        var wait = 60.0
        // Polls are deadlines counted from the start: domains polled together wait together (on a tabletop's simulated
        // clock, two domains' waits added up, and the total depended on which task ran first).
        var nextPoll = started
        while true {
            do {
                _ = try await context.graph.send(GraphRequest("POST", "/domains/\(name)/verify"))
                return OperationOutcome(.applied, note: "verified")
            } catch let error as GraphError where error.status == 400 {
                if Self.isHeldByAnotherTenant(error) {
                    try await context.checkpoint.append(
                        .domainHeld(stageID: context.stage.id, domain: name, code: error.code), simulated: nil)
                    return OperationOutcome(
                        .skipped,
                        followUps: [
                            FollowUp(
                                category: "domain-held",
                                message:
                                    "\(name) cannot be verified: it is still verified in another tenant (Graph \(error.code)\(error.requestID.map { ", request-id \($0)" } ?? ""))",
                                action:
                                    "remove \(name) from the tenant that holds it (or have Microsoft support release it), then verify it here "
                                    + "and rerun users.rename: its users stay on the recovery domain until then")
                        ],
                        note: "held by another tenant")
                }
                let elapsed = (await context.graph.clock.now()).timeIntervalSince(started)
                guard elapsed + wait <= timeout else {
                    guard skipOnTimeout else {
                        throw StageOperationError(
                            code: "DomainNotVerified",
                            message:
                                "\(name): TXT record \(text) not found after \(Int(elapsed / 60)) minutes; publish it, then `lifeboat resume`"
                        )
                    }
                    return OperationOutcome(
                        .skipped,
                        followUps: [
                            FollowUp(
                                category: "domain-unverified",
                                message: "\(name) is not verified: TXT record \(text) not found after \(Int(elapsed / 60)) minutes",
                                action:
                                    "publish TXT \(text) at \(name), then run `lifeboat resume` (users keep their mapped UPNs until users.rename runs)"
                            )
                        ])
                }
                nextPoll = nextPoll.addingTimeInterval(wait)
                try await WaitReason.$current.withValue(.polling) { [nextPoll] in try await context.graph.clock.sleep(until: nextPoll) }
                wait = min(wait * 2, 900)
            }
        }
    }

    /// Whether a refused `verify` says the domain belongs to another tenant (polling cannot help), rather than that the
    /// TXT record is not there yet (polling can).
    static func isHeldByAnotherTenant(_ error: GraphError) -> Bool {
        let message = error.message.lowercased()
        return message.contains("another tenant") || message.contains("already verified") || message.contains("in use by another")
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? {
        let domain = try await context.graph.get("/domains/\(operation.sourceID)")
        return domain["isVerified"]?.boolValue == true ? OperationOutcome(.applied, note: "verified") : nil
    }
}

import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// Identifier URIs are restored in two steps, like UPNs. Graph refuses an `http(s)` identifier URI whose host is not a
/// verified domain of the tenant (or a subdomain of one) with `HostNameNotOnVerifiedDomain`, and an update is all or
/// nothing (application-update.md, resources/application.md). So apps.create sets only the URIs the target accepts now:
/// `api://{old appId}` rewritten to the new appId, hosts on the source's `*.onmicrosoft.com` domains rewritten to the
/// target's initial domain (no other tenant can ever verify them), and hosts on verified domains; apps.identifierUris
/// adds the rest once their domain verifies.
enum IdentifierURIs {
    /// The target's domains as apps need them, read once per stage.
    struct TargetDomains: Sendable {
        var verified: Set<String>
        var initial: String?

        static func read(_ graph: GraphClient) async throws -> TargetDomains {
            let domains = try await graph.list("/domains", query: [QueryItem("$select", "id,isVerified,isInitial")])
            return TargetDomains(
                verified: Set(domains.filter { $0["isVerified"]?.boolValue == true }.compactMap { $0["id"]?.stringValue?.lowercased() }),
                initial: domains.first { $0["isInitial"]?.boolValue == true }?["id"]?.stringValue?.lowercased())
        }

        /// Whether a host is a verified domain or a subdomain of one.
        func accepts(_ host: String) -> Bool {
            let host = host.lowercased()
            return verified.contains(host) || verified.contains { host.hasSuffix("." + $0) }
        }
    }

    /// The host of an `http`/`https` URI, which must be on a verified domain; `nil` for `api://`, `urn:` and other forms.
    static func verifiedHost(of uri: String) -> String? {
        guard let url = URL(string: uri), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else { return nil }
        return url.host?.lowercased()
    }

    /// The source tenant's `*.onmicrosoft.com` domains, lower-cased.
    static func sourceTenantDomains(_ snapshot: Snapshot) -> [String] {
        var domains = Set(snapshot.domains.map { $0.id.lowercased() }.filter { $0.hasSuffix(".onmicrosoft.com") })
        if let initial = snapshot.manifest.sourceInitialDomain?.lowercased() { domains.insert(initial) }
        return domains.sorted { $0.count > $1.count }  // the longest suffix first
    }

    /// The app's URIs as the target must have them, split into those it accepts now and those waiting on a domain.
    static func split(_ app: Application, newAppID: String, snapshot: Snapshot, target: TargetDomains) -> (
        now: [String], deferred: [String]
    ) {
        var now: [String] = [], deferred: [String] = []
        for original in app.properties["identifierUris"]?.stringArray ?? [] {
            var uri = original.replacingOccurrences(of: app.appId, with: newAppID, options: .caseInsensitive)
            if let host = verifiedHost(of: uri), let initial = target.initial,
                let source = sourceTenantDomains(snapshot).first(where: { host == $0 || host.hasSuffix("." + $0) }),
                let range = uri.range(of: source, options: [.caseInsensitive])
            {
                uri.replaceSubrange(range, with: initial)
            }
            if let host = verifiedHost(of: uri), !target.accepts(host) { deferred.append(uri) } else { now.append(uri) }
        }
        return (now, deferred)
    }

    /// Whether two lists hold the same URIs (case-insensitive, any order).
    static func same(_ a: [String], _ b: [String]) -> Bool { Set(a.map { $0.lowercased() }) == Set(b.map { $0.lowercased() }) }

    /// The follow-up of an app whose URIs wait on domains.
    static func waiting(_ app: Application, _ deferred: [String]) -> FollowUp {
        let hosts = Set(deferred.compactMap(verifiedHost(of:))).sorted()
        return FollowUp(
            category: "identifier-uri-deferred",
            message:
                "\(app.displayName) has no identifier URI \(deferred.joined(separator: ", ")) yet: \(hosts.joined(separator: ", ")) is not verified in the target",
            action: "verify the domain, then the apps.identifierUris stage (or `lifeboat resume`) adds them")
    }

    /// Sets the application's URIs to `desired` unless it already has them.
    static func set(_ desired: [String], applicationID id: String, current: [String]?, in context: StageContext) async throws -> Bool {
        func read() async throws -> [String] {
            try await FollowOnWrite.readingJustCreated(in: context) {
                try await context.graph.get("/applications/\(id)", query: [QueryItem("$select", "identifierUris")])["identifierUris"]?
                    .stringArray ?? []
            }
        }
        let present: [String]
        if let current { present = current } else { present = try await read() }
        if same(present, desired) { return false }
        try await FollowOnWrite.send(
            GraphRequest("PATCH", "/applications/\(id)", body: ["identifierUris": .array(desired.map(JSONValue.string))]),
            in: context
        ) { same(try await read(), desired) }
        return true
    }
}

/// `apps.identifierUris`: the second step of identifier URIs — adds those apps.create left out because their domain was
/// not verified yet. An app whose domain is still unverified (held by the old tenant) keeps a follow-up.
struct AppsIdentifierURIs: StageKind {
    static let spec = StageKindSpec(
        name: "apps.identifierUris",
        summary: "the second step: adds the `http(s)` identifier URIs whose domain verified after `apps.create`", options: [])

    let domains = SharedReads<IdentifierURIs.TargetDomains>()

    init(stage: Runbook.Stage) throws(StageConfigurationError) {}

    func plan(_ snapshot: Snapshot, index: SnapshotIndex) -> StagePlan {
        StagePlan(
            operations: snapshot.applications.filter { app in
                (app.properties["identifierUris"]?.stringArray ?? []).contains { IdentifierURIs.verifiedHost(of: $0) != nil }
            }.map {
                PlannedOperation(
                    key: "identifierUris:\($0.id)", objectType: nil, sourceID: $0.id, naturalKey: nil, displayName: $0.displayName)
            })
    }

    func perform(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome {
        guard let app = context.snapshot.applications.first(where: { $0.id == operation.sourceID }),
            let id = context.idMap.newID(for: app.id), let newAppID = context.idMap.newAppID(forOldAppID: app.appId)
        else {
            return OperationOutcome(
                .skipped,
                followUps: [
                    FollowUp(
                        category: "unresolved-reference", message: "\(operation.displayName) was not restored",
                        action: "restore the application first")
                ])
        }
        let target = try await domains.value("domains") { try await IdentifierURIs.TargetDomains.read(context.graph) }
        let (now, deferred) = IdentifierURIs.split(app, newAppID: newAppID, snapshot: context.snapshot, target: target)
        let changed = try await IdentifierURIs.set(now, applicationID: id, current: nil, in: context)
        guard deferred.isEmpty else { return OperationOutcome(.skipped, newID: id, followUps: [IdentifierURIs.waiting(app, deferred)]) }
        return OperationOutcome(changed ? .applied : .unchanged, newID: id)
    }

    func reconcile(_ operation: PlannedOperation, in context: StageContext) async throws -> OperationOutcome? { nil }
}

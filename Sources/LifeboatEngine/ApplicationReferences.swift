import LifeboatGraph
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot

/// Which appIds belong to Microsoft or to other organizations: their service principals are looked up
/// in the target by appId and adopted, never copied, and references to them are never remapped.
enum ExternalApps {
    /// Tenants that own Microsoft's first-party applications.
    static let microsoftTenants: Set<String> = [
        "f8cdef31-a31e-4b4a-93e4-5f571e91255a",  // Microsoft Services
        "72f988bf-86f1-41af-91ab-2d7cd011db47",  // Microsoft
        "47df5bb7-e6bc-4256-afb0-dd8c8e3c1ce8",  // Microsoft (Power Platform, Dynamics)
    ]

    /// Microsoft first-party appIds that are the same in every tenant.
    static let wellKnownAppIDs: [String: String] = [
        "00000003-0000-0000-c000-000000000000": "Microsoft Graph",
        "00000002-0000-0000-c000-000000000000": "Azure Active Directory Graph",
        "00000002-0000-0ff1-ce00-000000000000": "Office 365 Exchange Online",
        "00000003-0000-0ff1-ce00-000000000000": "Office 365 SharePoint Online",
        "00000004-0000-0ff1-ce00-000000000000": "Skype for Business Online",
        "c5393580-f805-4401-95e8-94b7a6ef2fc2": "Office 365 Management APIs",
        "797f4846-ba00-4fd7-ba43-dac1f8f63013": "Windows Azure Service Management API",
        "c44b4083-3bb0-49c1-b47d-974e53cbdf3c": "Azure Portal",
        "00000007-0000-0000-c000-000000000000": "Dynamics CRM",
        "cfa8b339-82a2-471a-a3c9-0fc0be7a4093": "Azure Key Vault",
        "e406a681-f3d4-42a8-90b6-c2b029497af1": "Azure Storage",
        "00000009-0000-0000-c000-000000000000": "Power BI Service",
        "0000000a-0000-0000-c000-000000000000": "Microsoft Intune",
    ]

    /// `true` when the app is not owned by the source tenant: Microsoft's, or another organization's multi-tenant app.
    static func isExternal(appId: String, owner: String?, sourceTenantID: String) -> Bool {
        if wellKnownAppIDs[appId.lowercased()] != nil { return true }
        guard let owner else { return false }
        return owner.lowercased() != sourceTenantID.lowercased()
    }

    /// `true` for Microsoft's own apps.
    static func isMicrosoft(appId: String, owner: String?) -> Bool {
        wellKnownAppIDs[appId.lowercased()] != nil || owner.map { microsoftTenants.contains($0.lowercased()) } == true
    }
}

/// How an appId found in an application's references resolves in the target.
enum AppReference: Equatable {
    /// An app of the source tenant that was restored: use its new appId.
    case restored(String)
    /// Microsoft's or another organization's app: the appId is the same everywhere.
    case external
    /// An app of the source tenant that was not (yet) restored.
    case notRestored(displayName: String)
    /// Neither in the snapshot nor known: left as it is.
    case unknown
}

/// Old appIds of the source tenant's applications and the new appIds the target gave them.
struct AppIDMap: Sendable {
    /// Old appId (lower-cased) → new appId, from the ID map's application rows.
    let newAppIDs: [String: String]
    /// Old appId (lower-cased) → display name, for every application in the snapshot.
    let snapshotApps: [String: String]
    /// AppIds (lower-cased) of service principals whose app belongs to another organization.
    let externalAppIDs: Set<String>

    init(idMap: IDMap, snapshot: Snapshot) {
        // Kept by the ID map as rows arrive: walking all of it per operation cost seconds at 100,000 users.
        newAppIDs = idMap.restoredApplicationAppIDs
        snapshotApps = Dictionary(
            snapshot.applications.map { ($0.appId.lowercased(), $0.displayName) }, uniquingKeysWith: { first, _ in first })
        let source = snapshot.manifest.sourceTenantId
        externalAppIDs = Set(
            snapshot.servicePrincipals.filter {
                ExternalApps.isExternal(appId: $0.appId, owner: $0.appOwnerOrganizationId, sourceTenantID: source)
            }.map { $0.appId.lowercased() })
    }

    func resolve(_ appId: String) -> AppReference {
        let key = appId.lowercased()
        if let new = newAppIDs[key] { return .restored(new) }
        if let name = snapshotApps[key] { return .notRestored(displayName: name) }
        if externalAppIDs.contains(key) || ExternalApps.wellKnownAppIDs[key] != nil { return .external }
        return .unknown
    }
}

/// Writes that follow an object's create within one operation (a PATCH of identifierUris, a federated
/// credential, a property fix-up). A lost response is checked against the target instead of being
/// retried blindly, so a resumed or repeated operation converges without duplicates.
enum FollowOnWrite {
    static let attempts = 5

    /// Sends `request`; when its response is lost, asks `landed` whether it was applied, and tries again if not.
    @discardableResult
    static func send(_ request: GraphRequest, in context: StageContext, landed: () async throws -> Bool) async throws -> GraphResponse? {
        var lastError: GraphError?
        for attempt in 1...attempts {
            do {
                return try await context.graph.send(request)
            } catch let error as GraphError where error.kind == .ambiguous {
                lastError = error
                if try await landed() { return nil }
            } catch let error as GraphError where error.isNotFound || error.isTransient {
                // Replication lag: the object just created is not visible to every replica yet.
                lastError = error
                try await context.graph.clock.sleep(seconds: context.graph.retry.backoff(attempt: attempt))
            }
        }
        if let lastError { throw lastError }
        throw StageOperationError(code: "Error", message: "\(request.method) \(request.path) did not succeed")
    }

    /// Runs a read of an object this operation just created again with backoff while Graph answers 404: a read by id
    /// lags behind the create (known-issues.md), and a miss must not send the whole operation round again.
    static func readingJustCreated<T>(in context: StageContext, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let error as GraphError where error.isNotFound && attempt < attempts {
                try await WaitReason.$current.withValue(.retry) {
                    try await context.graph.clock.sleep(seconds: context.graph.retry.backoff(attempt: attempt))
                }
            }
        }
    }

    /// Runs `body` again with backoff while Graph says the application behind an appId does not exist yet
    /// (`NoBackingApplicationObject` right after the application was created is replication lag).
    static func waitingForReplication<T>(in context: StageContext, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await body()
            } catch let error as GraphError where error.code == "NoBackingApplicationObject" && attempt < attempts {
                try await context.graph.clock.sleep(seconds: context.graph.retry.backoff(attempt: attempt))
            }
        }
    }
}

/// References (`owners`) embedded on a snapshot object as Graph returns them with `$expand`.
enum EmbeddedReferences {
    static func of(_ properties: JSONObject, _ name: String) -> [(id: String, type: String)] {
        (properties[name]?.arrayValue ?? []).compactMap { value in
            guard let id = value["id"]?.stringValue, !id.isEmpty else { return nil }
            let type = value["@odata.type"]?.stringValue.map { String($0.split(separator: ".").last ?? Substring($0)) } ?? "directoryObject"
            return (id, type)
        }
    }
}

extension ObjectSelection {
    /// Only the `where` option, for kinds whose objects are not group members (applications).
    static let whereOnly = options.filter { $0.name == "where" }

    /// Whether an object that refers to a principal (an assignment, a grant) is selected: `where` on the object
    /// itself, `memberOf` on the principal it refers to.
    func selects(_ object: some DirectoryObject, principalID: String?, memberIDs: Set<String>) -> Bool {
        if !memberOf.isEmpty, !(principalID.map(memberIDs.contains) ?? false) { return false }
        var conditionsOnly = self
        conditionsOnly.memberOf = []
        return conditionsOnly.selects(object, memberIDs: [])
    }
}

/// Resolves a source object's id to the target's: through the ID map, or — in an in-place recovery, where users and
/// groups were never deleted and keep their ids — to the same id when the target still has that object.
enum TargetReference {
    static func id(for oldID: String, in context: StageContext) async throws -> String? {
        if let mapped = context.idMap.newID(for: oldID) { return mapped }
        do {
            return try await context.graph.get("/directoryObjects/\(oldID)", query: [QueryItem("$select", "id")])["id"]?.stringValue
        } catch let error as GraphError where error.status == 404 || error.code == "Request_ResourceNotFound" {
            return nil
        }
    }
}

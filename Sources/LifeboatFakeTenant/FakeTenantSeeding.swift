import Foundation
import LifeboatGraph
import LifeboatJSON
import LifeboatSnapshot

/// What ``FakeTenant/seed(from:)`` put into the fake tenant, and what it could not.
public struct SeedReport: Sendable, Hashable, CustomStringConvertible {
    /// Objects created, per snapshot collection.
    public var created: [ObjectType: Int] = [:]
    /// Group memberships and owners added.
    public var links = 0
    /// Snapshot object id → the fake tenant's new id.
    public var idMap: [String: String] = [:]
    /// Objects left out, by reason (`"applications: the fake tenant does not serve /applications yet"`).
    public var skipped: [String: Int] = [:]
    /// Writes the fake refused, with Graph's message (at most 20 kept).
    public var failures: [String] = []

    public var description: String {
        let made = created.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.plural)" }.joined(separator: ", ")
        var text = "seeded \(made.isEmpty ? "nothing" : made), \(links) memberships and owners"
        for (reason, count) in skipped.sorted(by: { $0.key < $1.key }) { text += "\n  skipped \(count): \(reason)" }
        for failure in failures { text += "\n  refused: \(failure)" }
        return text
    }
}

extension FakeTenant {
    /// Loads a snapshot into this fake tenant through its own Graph API (`handle`), so the seed obeys
    /// the same rules as a restore: new ids, verified UPN domains, 20 references per `@odata.bind`.
    ///
    /// Seeded: the snapshot's custom domains (verified), member users (UPNs on the source's
    /// `*.onmicrosoft.com` domain move to this tenant's initial domain), guests (through `POST /invitations`),
    /// groups other than mail-enabled security groups, their members and owners (not for dynamic groups).
    ///
    /// TODO(fake tenant coverage): seed these once the fake serves them — managers (`PUT /users/{id}/manager/$ref`),
    /// administrative units and their members, applications and service principals, app role assignments,
    /// OAuth2 permission grants, custom role definitions and role assignments, named locations, Conditional
    /// Access policies, and the organization's properties. Until then they are counted in ``SeedReport/skipped``.
    public func seed(from snapshot: Snapshot) -> SeedReport {
        var report = SeedReport()
        let base = "https://graph.fake-tenant.invalid/v1.0"
        let sourceInitial = snapshot.manifest.sourceInitialDomain?.lowercased()

        func send(_ method: String, _ path: String, _ body: JSONValue?) -> (status: Int, object: JSONObject, message: String) {
            let data = body.flatMap { try? JSONCoding.encode($0) }
            let response = handle(HTTPRequest(method: method, url: base + path, headers: ["Content-Type": "application/json"], body: data))
            let object = (try? JSONCoding.decode(response.body))?.objectValue ?? [:]
            return (response.status, object, object["error"]?["message"]?.stringValue ?? "HTTP \(response.status)")
        }
        func refuse(_ what: String, _ message: String) {
            report.skipped["refused by the fake tenant", default: 0] += 1
            if report.failures.count < 20 { report.failures.append("\(what): \(message)") }
        }

        for domain in snapshot.domains where !domain.isInitial && !domain.id.hasSuffix(".onmicrosoft.com") {
            do {
                try addDomain(domain.id, verified: true)
                report.created[.domain, default: 0] += 1
            } catch {
                refuse("domain \(domain.id)", "\(error)")
            }
        }

        for user in snapshot.users {
            if user.isGuest {
                guard let email = user.mail ?? user.properties["otherMails"]?.stringArray?.first else {
                    report.skipped["guests without an email address", default: 0] += 1
                    continue
                }
                let answer = send("POST", "/invitations", [
                    "invitedUserEmailAddress": .string(email), "invitedUserDisplayName": .string(user.displayName),
                    "inviteRedirectUrl": "https://myapps.microsoft.com", "sendInvitationMessage": false,
                ])
                if answer.status == 201, let id = answer.object["invitedUser"]?["id"]?.stringValue {
                    report.idMap[user.id] = id
                    report.created[.user, default: 0] += 1
                } else {
                    refuse("guest \(user.userPrincipalName)", answer.message)
                }
                continue
            }
            var body = user.properties.filter { Self.seedableUserProperties.contains($0.key) && !$0.value.isNull }
            var upn = user.userPrincipalName
            if let sourceInitial, upn.lowercased().hasSuffix("@" + sourceInitial) {
                upn = String(upn.dropLast(sourceInitial.count)) + initialDomain
            }
            body["userPrincipalName"] = .string(upn)
            body["accountEnabled"] = .bool(user.accountEnabled)
            body["mailNickname"] = body["mailNickname"] ?? .string(String(upn.split(separator: "@").first ?? "user"))
            body["passwordProfile"] = ["forceChangePasswordNextSignIn": true, "password": .string("Seed-\(UUID().uuidString)")]
            let answer = send("POST", "/users", .object(body))
            if answer.status == 201, let id = answer.object["id"]?.stringValue {
                report.idMap[user.id] = id
                report.created[.user, default: 0] += 1
            } else {
                refuse("user \(user.userPrincipalName)", answer.message)
            }
        }
        let managers = snapshot.users.filter { $0.manager != nil }.count
        if managers > 0 { report.skipped["managers: the fake tenant does not serve /users/{id}/manager yet", default: 0] += managers }

        var createdGroups: [(Group, String)] = []
        for group in snapshot.groups {
            if group.mailEnabled && !group.isUnified {
                report.skipped["mail-enabled security groups: Graph cannot create them", default: 0] += 1
                continue
            }
            var body = group.properties.filter { Self.seedableGroupProperties.contains($0.key) && !$0.value.isNull }
            if !group.isDynamic {
                body["membershipRule"] = nil
                body["membershipRuleProcessingState"] = nil
            }
            let answer = send("POST", "/groups", .object(body))
            if answer.status == 201, let id = answer.object["id"]?.stringValue {
                report.idMap[group.id] = id
                report.created[.group, default: 0] += 1
                createdGroups.append((group, id))
            } else {
                refuse("group \(group.displayName)", answer.message)
            }
        }
        // Relationships once every group exists, so nested groups resolve.
        for (group, id) in createdGroups {
            for (relation, references) in [("members", group.members), ("owners", group.owners)] {
                if relation == "members", group.isDynamic { continue }
                let targets = references.compactMap { report.idMap[$0.id] }
                report.skipped["\(relation) that are not seeded objects (service principals, devices, contacts)", default: 0] += references.count - targets.count
                for start in stride(from: 0, to: targets.count, by: 20) {
                    let chunk = targets[start..<min(start + 20, targets.count)].map { JSONValue.string("\(base)/directoryObjects/\($0)") }
                    let answer = send("PATCH", "/groups/\(id)", ["\(relation)@odata.bind": .array(Array(chunk))])
                    if answer.status == 204 { report.links += chunk.count } else { refuse("\(relation) of \(group.displayName)", answer.message) }
                }
            }
        }
        report.skipped = report.skipped.filter { $0.value > 0 }

        let unsupported: [(ObjectType, Int)] = [
            (.administrativeUnit, snapshot.administrativeUnits.count), (.application, snapshot.applications.count),
            (.servicePrincipal, snapshot.servicePrincipals.count), (.appRoleAssignment, snapshot.appRoleAssignments.count),
            (.oauth2PermissionGrant, snapshot.oauth2PermissionGrants.count), (.roleDefinition, snapshot.roleDefinitions.count),
            (.roleAssignment, snapshot.roleAssignments.count), (.namedLocation, snapshot.namedLocations.count),
            (.conditionalAccessPolicy, snapshot.conditionalAccessPolicies.count),
        ]
        for (type, count) in unsupported where count > 0 {
            report.skipped["\(type.plural): the fake tenant does not serve them yet", default: 0] += count
        }
        return report
    }

    /// User properties a create may carry (Graph's writable ones that a snapshot holds).
    static let seedableUserProperties: Set<String> = [
        "accountEnabled", "ageGroup", "businessPhones", "city", "companyName", "consentProvidedForMinor", "country", "department",
        "displayName", "employeeHireDate", "employeeId", "employeeOrgData", "employeeType", "faxNumber", "givenName", "jobTitle",
        "mailNickname", "mobilePhone", "officeLocation", "onPremisesExtensionAttributes", "otherMails", "passwordPolicies",
        "postalCode", "preferredDataLocation", "preferredLanguage", "showInAddressList", "state", "streetAddress", "surname",
        "usageLocation", "userType",
    ]

    /// Group properties a create may carry.
    static let seedableGroupProperties: Set<String> = [
        "classification", "description", "displayName", "groupTypes", "isAssignableToRole", "mailEnabled", "mailNickname",
        "membershipRule", "membershipRuleProcessingState", "preferredDataLocation", "preferredLanguage", "securityEnabled",
        "theme", "uniqueName", "visibility",
    ]
}

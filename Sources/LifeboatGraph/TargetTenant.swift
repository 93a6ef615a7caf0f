import Foundation
import LifeboatJSON

/// Who a Graph client is really talking to: the tenant its access token was issued for and the
/// organization Graph answers with. A live rebuild checks both against what the operator named
/// before it writes anything.
package struct TargetTenant: Sendable, Hashable {
    /// The directory (tenant) id, from `GET /organization`.
    package var id: String
    /// The `*.onmicrosoft.com` domain the tenant was created with.
    package var initialDomain: String
    package var displayName: String?
    /// Every verified domain name, lower-cased.
    package var verifiedDomains: [String]
    /// The `tid` claim of the access token, when the token is a readable JWT.
    package var tokenTenantID: String?

    package init(id: String, initialDomain: String, displayName: String?, verifiedDomains: [String], tokenTenantID: String?) {
        self.id = id
        self.initialDomain = initialDomain
        self.displayName = displayName
        self.verifiedDomains = verifiedDomains
        self.tokenTenantID = tokenTenantID
    }

    /// Signs in and reads the organization.
    package static func identify(through graph: GraphClient) async throws -> TargetTenant {
        let token = try await graph.tokens?.accessToken()
        let organizations = try await graph.list("/organization", query: [QueryItem("$select", "id,displayName,verifiedDomains")])
        guard organizations.count == 1, let organization = organizations.first, let id = organization["id"]?.stringValue else {
            throw TargetTenantError("GET /organization answered \(organizations.count) organizations; expected exactly one")
        }
        let domains = organization["verifiedDomains"]?.arrayValue?.compactMap(\.objectValue) ?? []
        let initial =
            domains.first { $0["isInitial"]?.boolValue == true }?["name"]?.stringValue
            ?? domains.compactMap { $0["name"]?.stringValue }.first { $0.lowercased().hasSuffix(".onmicrosoft.com") }
        guard let initial else { throw TargetTenantError("the organization \(id) lists no initial (*.onmicrosoft.com) domain") }
        return TargetTenant(
            id: id.lowercased(), initialDomain: initial.lowercased(), displayName: organization["displayName"]?.stringValue,
            verifiedDomains: domains.compactMap { $0["name"]?.stringValue?.lowercased() },
            tokenTenantID: token.flatMap(AccessTokenClaims.tenantID(of:)))
    }

    /// Whether `name` (a tenant id or one of its domains) names this tenant.
    package func isNamed(_ name: String) -> Bool {
        let name = name.lowercased()
        return name == id || name == initialDomain || verifiedDomains.contains(name)
    }

    /// Checks that the token, the organization and the operator's `--tenant` agree.
    package func check(named expected: String) throws {
        if let tokenTenantID, tokenTenantID.lowercased() != id {
            throw TargetTenantError(
                "the access token was issued for tenant \(tokenTenantID) but Graph answers for organization \(id); check --authority-url and --graph-url"
            )
        }
        guard isNamed(expected) else {
            throw TargetTenantError(
                """
                the credentials sign in to tenant \(id) (\(initialDomain)), not \(expected); \
                check --tenant, or the application registration the credentials belong to
                """)
        }
    }
}

/// The target is not the tenant the operator named, or cannot be identified.
package struct TargetTenantError: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Claims read from an access token's payload, without verifying it (Graph verifies it; Lifeboat only
/// checks which tenant it is for).
package enum AccessTokenClaims {
    /// The `tid` claim of a JWT access token, or `nil` when the token is not a readable JWT.
    package static func tenantID(of token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let payload = Base64URL.decode(String(parts[1])),
            let claims = (try? JSONCoding.decode(payload))?.objectValue
        else { return nil }
        return claims["tid"]?.stringValue
    }
}

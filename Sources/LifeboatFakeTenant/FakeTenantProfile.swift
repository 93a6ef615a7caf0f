import Foundation
import Yams

/// How hostile the fake tenant is: Graph's throttling, replication lag and faults, reproducible from a seed.
package struct FakeTenantProfile: Codable, Sendable, Hashable {
    package struct Throttling: Codable, Sendable, Hashable {
        package var enabled: Bool
        /// Resource units per 10 s per app; `nil` (written `auto`) derives it from the tenant's size.
        package var resourceUnitsPer10s: Int?
        /// Writes per 150 s per app.
        package var writesPerApp: Int
        /// Writes per 300 s per tenant across apps.
        package var writesPerTenant: Int
        /// Requests per second per tenant to Conditional Access policies and named locations.
        package var conditionalAccessPerSecond: Double
        package var omitRetryAfterForConditionalAccess: Bool
        package var chargeThrottledRequests: Bool

        package init(
            enabled: Bool, resourceUnitsPer10s: Int? = nil, writesPerApp: Int = 3_000, writesPerTenant: Int = 18_000,
            conditionalAccessPerSecond: Double = 1, omitRetryAfterForConditionalAccess: Bool = true, chargeThrottledRequests: Bool = true
        ) {
            self.enabled = enabled
            self.resourceUnitsPer10s = resourceUnitsPer10s
            self.writesPerApp = writesPerApp
            self.writesPerTenant = writesPerTenant
            self.conditionalAccessPerSecond = conditionalAccessPerSecond
            self.omitRetryAfterForConditionalAccess = omitRetryAfterForConditionalAccess
            self.chargeThrottledRequests = chargeThrottledRequests
        }

        enum CodingKeys: String, CodingKey {
            case enabled, resourceUnitsPer10s, writesPerApp, writesPerTenant, conditionalAccessPerSecond
            case omitRetryAfterForConditionalAccess, chargeThrottledRequests
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
            if let text = try? c.decodeIfPresent(String.self, forKey: .resourceUnitsPer10s), text == "auto" {
                resourceUnitsPer10s = nil
            } else {
                resourceUnitsPer10s = try c.decodeIfPresent(Int.self, forKey: .resourceUnitsPer10s)
            }
            writesPerApp = try c.decodeIfPresent(Int.self, forKey: .writesPerApp) ?? 3_000
            writesPerTenant = try c.decodeIfPresent(Int.self, forKey: .writesPerTenant) ?? 18_000
            conditionalAccessPerSecond = try c.decodeIfPresent(Double.self, forKey: .conditionalAccessPerSecond) ?? 1
            omitRetryAfterForConditionalAccess = try c.decodeIfPresent(Bool.self, forKey: .omitRetryAfterForConditionalAccess) ?? true
            chargeThrottledRequests = try c.decodeIfPresent(Bool.self, forKey: .chargeThrottledRequests) ?? true
        }
    }

    package struct Faults: Codable, Sendable, Hashable {
        /// Share of requests answered 500/503/504 before anything is applied.
        package var transientErrorRate: Double = 0
        /// Share of writes applied whose response is then lost (the ambiguous case).
        package var lostResponseRate: Double = 0

        package init(transientErrorRate: Double = 0, lostResponseRate: Double = 0) {
            self.transientErrorRate = transientErrorRate
            self.lostResponseRate = lostResponseRate
        }
    }

    /// A new tenant as Microsoft creates it (see ``NewTenant``); `nil` (no `newTenant` section) keeps the old permissive
    /// start: security defaults off, Conditional Access allowed, Temporary Access Pass enabled, no held domains.
    package struct NewTenant: Codable, Sendable, Hashable {
        /// Security defaults are on at the start (every new tenant: api-reference/v1.0/resources/identitysecuritydefaultsenforcementpolicy.md).
        package var securityDefaults: Bool
        /// An Entra ID P1 or P2 SKU is bought: `subscribedSkus` lists AAD_PREMIUM_P2 (Conditional Access needs it).
        package var conditionalAccessLicensed: Bool
        /// The Temporary Access Pass method's `state` in the authentication-methods policy at the start.
        package var temporaryAccessPassEnabled: Bool
        /// Custom domains verified in another tenant: `verify` fails for them for good.
        package var heldDomains: [String]

        /// Microsoft's defaults for a new tenant unless said otherwise: security defaults on, no P1/P2, TAP disabled.
        package init(
            securityDefaults: Bool = true, conditionalAccessLicensed: Bool = false, temporaryAccessPassEnabled: Bool = false,
            heldDomains: [String] = []
        ) {
            self.securityDefaults = securityDefaults
            self.conditionalAccessLicensed = conditionalAccessLicensed
            self.temporaryAccessPassEnabled = temporaryAccessPassEnabled
            self.heldDomains = heldDomains
        }

        enum CodingKeys: String, CodingKey { case securityDefaults, conditionalAccessLicensed, temporaryAccessPassEnabled, heldDomains }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            securityDefaults = try c.decodeIfPresent(Bool.self, forKey: .securityDefaults) ?? true
            conditionalAccessLicensed = try c.decodeIfPresent(Bool.self, forKey: .conditionalAccessLicensed) ?? false
            temporaryAccessPassEnabled = try c.decodeIfPresent(Bool.self, forKey: .temporaryAccessPassEnabled) ?? false
            heldDomains = try c.decodeIfPresent([String].self, forKey: .heldDomains) ?? []
        }
    }

    package var name: String
    package var seed: UInt64
    package var throttling: Throttling
    /// Seconds during which a just-created object cannot be referenced.
    package var replicationLagSeconds: Double
    package var faults: Faults
    /// In a rehearsal, the operator publishes a new domain's TXT record this long after the domain is added
    /// (`nil`: only when published through the admin API).
    package var dnsRecordsPublishedAfterSeconds: Double?
    /// The strict starting state of a new tenant; `nil`: the permissive start (see ``NewTenant``).
    package var newTenant: NewTenant?
    /// The application permissions (`roles`) an in-process client holds; `nil`: ``FakeTenantPermissions/defaultGrants``.
    /// (`fake-tenant serve` grants per client instead.)
    package var permissions: [String]?
    /// Graph rules the engine does not yet satisfy, switched on one by one (see ``StrictRules``).
    package var strictRules: StrictRules

    package init(
        name: String, seed: UInt64 = 1, throttling: Throttling = Throttling(enabled: false), replicationLagSeconds: Double = 0,
        faults: Faults = Faults(), newTenant: NewTenant? = nil, permissions: [String]? = nil, strictRules: StrictRules = StrictRules()
    ) {
        self.name = name
        self.seed = seed
        self.throttling = throttling
        self.replicationLagSeconds = replicationLagSeconds
        self.faults = faults
        self.newTenant = newTenant
        self.permissions = permissions
        self.strictRules = strictRules
    }

    enum CodingKeys: String, CodingKey {
        case name, seed, throttling, replicationLagSeconds, faults, dnsRecordsPublishedAfterSeconds, newTenant, permissions, strictRules
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? 1
        throttling = try c.decodeIfPresent(Throttling.self, forKey: .throttling) ?? Throttling(enabled: false)
        replicationLagSeconds = try c.decodeIfPresent(Double.self, forKey: .replicationLagSeconds) ?? 0
        faults = try c.decodeIfPresent(Faults.self, forKey: .faults) ?? Faults()
        dnsRecordsPublishedAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .dnsRecordsPublishedAfterSeconds)
        newTenant = try c.decodeIfPresent(NewTenant.self, forKey: .newTenant)
        permissions = try c.decodeIfPresent([String].self, forKey: .permissions)
        strictRules = try c.decodeIfPresent(StrictRules.self, forKey: .strictRules) ?? StrictRules()
    }

    /// No throttling, lag or faults; DNS records are published a minute after a domain is added.
    package static let fast: FakeTenantProfile = {
        var profile = FakeTenantProfile(name: "fast")
        profile.dnsRecordsPublishedAfterSeconds = 60
        return profile
    }()

    /// The names of the profiles shipped with Lifeboat (`Profiles/*.yaml`, compiled into the binary).
    package static var shipped: [String] {
        FakeTenantResources.files.keys.filter { $0.hasPrefix("Profiles/") && $0.hasSuffix(".yaml") }
            .map { String($0.dropFirst("Profiles/".count).dropLast(".yaml".count)) }.sorted()
    }

    /// A shipped profile by name, or a profile file by path.
    package static func named(_ nameOrPath: String) throws -> FakeTenantProfile {
        let source: String, text: String
        if nameOrPath.hasSuffix(".yaml") || nameOrPath.contains("/") {
            source = URL(fileURLWithPath: nameOrPath).path
            guard let read = try? String(contentsOfFile: nameOrPath, encoding: .utf8) else {
                throw ProfileError(message: "cannot read profile \(source)")
            }
            text = read
        } else if let shipped = FakeTenantResources.files["Profiles/\(nameOrPath).yaml"] {
            source = "Profiles/\(nameOrPath).yaml"
            text = shipped
        } else {
            throw ProfileError(
                message:
                    "no profile named \(nameOrPath); shipped profiles: \(shipped.joined(separator: ", ")), or give a path to a .yaml file")
        }
        do {
            return try YAMLDecoder().decode(FakeTenantProfile.self, from: text)
        } catch {
            throw ProfileError(message: "profile \(source) is not valid: \(error)")
        }
    }
}

/// Graph rules of the fake that a profile switches on (YAML section `strictRules`), for rules the engine does not yet
/// satisfy yet: each defaults to off until the engine side lands (see Docs/fake-tenant.md, /work/coord "Engine must fix").
package struct StrictRules: Codable, Sendable, Hashable {
    /// The default property set per type when there is no `$select` (api-reference/v1.0/resources/user.md, api-reference/v1.0/resources/group.md: "Returned by default").
    package var defaultPropertySet: Bool
    /// For the replication lag a new object is missing from lists, `$filter` and `$count` (concepts/aad-advanced-queries.md).
    package var eventualLists: Bool
    /// For the replication lag a read by id of a new object answers 404 (concepts/known-issues.md).
    package var eventualReads: Bool

    package init(defaultPropertySet: Bool = false, eventualLists: Bool = false, eventualReads: Bool = false) {
        self.defaultPropertySet = defaultPropertySet
        self.eventualLists = eventualLists
        self.eventualReads = eventualReads
    }

    /// Every rule on: what Graph does.
    package static let all = StrictRules(defaultPropertySet: true, eventualLists: true, eventualReads: true)

    enum CodingKeys: String, CodingKey { case defaultPropertySet, eventualLists, eventualReads }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultPropertySet = try c.decodeIfPresent(Bool.self, forKey: .defaultPropertySet) ?? false
        eventualLists = try c.decodeIfPresent(Bool.self, forKey: .eventualLists) ?? false
        eventualReads = try c.decodeIfPresent(Bool.self, forKey: .eventualReads) ?? false
    }
}

/// A profile that cannot be used.
package struct ProfileError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Writes a synthetic tenant as a Lifeboat snapshot: organization, domains, users (members, guests,
/// disabled and synced accounts, a reporting tree), groups (heavy-tailed sizes, nesting, Microsoft 365,
/// dynamic and role-assignable groups, owners), applications with service principals, app role
/// assignments and grants, directory roles and assignments, named locations and Conditional Access policies.
///
/// The same options and seed give the same bytes. Every reference points at an object in the snapshot
/// and every id is unique.
package struct TenantGenerator: Sendable {
    /// What to generate.
    package struct Options: Sendable, Hashable {
        /// Users, guests and break-glass accounts included.
        package var users: Int
        /// Groups (default: one per 20 users, at least 24).
        package var groups: Int?
        /// Application registrations, each with its service principal (default: one per 500 users, at least 4).
        package var applications: Int?
        package var seed: UInt64
        /// The initial domain's prefix: `contoso` → `contoso.onmicrosoft.com`.
        package var name: String
        /// One to three custom (verified) domains; the first holds most UPNs.
        package var customDomains: [String]
        /// The capture time written to the manifest (fixed, so output is reproducible).
        package var capturedAt: Date
        /// Also make a few mail-enabled security groups (about 1 in 200), which Graph cannot create.
        /// Off by default: the shipped runbook's `groups.members` stage still tries to fill them and fails.
        package var mailEnabledSecurityGroups: Bool

        /// The custom domains the shipped runbook `Runbooks/rebuild-new-tenant.yaml` maps.
        package static let runbookDomains = ["contoso.com", "fabrikam-labs.com"]

        package init(
            users: Int, groups: Int? = nil, applications: Int? = nil, seed: UInt64 = 1, name: String = "contoso",
            customDomains: [String] = Options.runbookDomains,
            capturedAt: Date = Date(timeIntervalSince1970: 1_794_623_400), mailEnabledSecurityGroups: Bool = false
        ) {
            self.users = users
            self.groups = groups
            self.applications = applications
            self.seed = seed
            self.name = name
            self.customDomains = customDomains
            self.capturedAt = capturedAt
            self.mailEnabledSecurityGroups = mailEnabledSecurityGroups
        }

        var groupCount: Int { groups ?? max(24, users / 20) }
        var applicationCount: Int { applications ?? max(4, users / 500) }
        var initialDomain: String { "\(name.lowercased()).onmicrosoft.com" }
    }

    /// What was written.
    package struct Summary: Sendable, Hashable {
        package var directory: URL
        package var manifest: SnapshotManifest
        /// Direct group memberships (user, group and service principal members).
        package var memberships: Int
        /// Groups that are members of other groups.
        package var nestedGroups: Int
        /// Size of the largest group.
        package var largestGroup: Int
    }

    /// Options that cannot make a tenant.
    package struct OptionError: Error, Sendable, Equatable, CustomStringConvertible {
        package var option: String
        package var problem: String
        package var description: String { "--\(option): \(problem)" }
    }

    package let options: Options

    package init(_ options: Options) throws(OptionError) {
        guard options.users >= 10 else {
            throw OptionError(option: "users", problem: "at least 10 users are needed (break-glass accounts, a CEO, departments)")
        }
        guard options.users <= 5_000_000 else { throw OptionError(option: "users", problem: "at most 5,000,000") }
        if let groups = options.groups, groups < 8 {
            throw OptionError(
                option: "groups", problem: "at least 8 groups are needed for the fixed ones (all staff, break-glass exclusion, …)")
        }
        if let applications = options.applications, applications < 1 { throw OptionError(option: "apps", problem: "at least 1") }
        let name = options.name.lowercased()
        guard !name.isEmpty, name.count <= 27, name.allSatisfy({ ($0.isASCII && $0.isLetter) || $0.isNumber }), name.first!.isLetter else {
            throw OptionError(
                option: "name",
                problem: "\"\(options.name)\" is not a valid initial domain prefix (letters and digits, starting with a letter, at most 27)"
            )
        }
        guard (1...3).contains(options.customDomains.count) else {
            throw OptionError(option: "domains", problem: "give one to three custom domains")
        }
        for domain in options.customDomains {
            let parts = domain.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }), !domain.lowercased().hasSuffix(".onmicrosoft.com"),
                domain.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
            else {
                throw OptionError(option: "domains", problem: "\"\(domain)\" is not a custom domain name")
            }
        }
        guard Set(options.customDomains.map { $0.lowercased() }).count == options.customDomains.count else {
            throw OptionError(option: "domains", problem: "a domain is listed twice")
        }
        self.options = options
    }

    /// Builds the tenant and writes it as a sealed snapshot into `directory`, which must not exist or be empty.
    package func write(to directory: URL) throws -> Summary {
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: directory.path), !existing.isEmpty {
            throw OptionError(
                option: "out", problem: "\(directory.path) is not empty; choose a new directory (a snapshot is sealed by its manifest)")
        }
        try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        let tenant = build()
        // The manifest is what Snapshot.writeManifest would write (a test holds the two equal); it is computed
        // here from the bytes in hand because writeManifest re-parses every file, which takes most of the time at 100,000 users.
        var files: [String: SnapshotManifest.FileEntry] = [:]
        for type in ObjectType.allCases {
            let objects = tenant.collections[type] ?? []
            let data = CompactJSONWriter.collectionFile(objects)
            try data.write(to: directory.appendingPathComponent(type.fileName))
            files[type.fileName] = .init(sha256: Snapshot.sha256Hex(data), count: objects.count)
        }
        let manifest = SnapshotManifest(
            sourceTenantId: tenant.tenantID, sourceInitialDomain: options.initialDomain,
            capturedAt: ISO8601DateFormatter().string(from: options.capturedAt), toolVersion: toolVersion, files: files)
        try JSONCoding.encodePretty(manifest).write(to: directory.appendingPathComponent(Snapshot.manifestFileName), options: .atomic)
        return Summary(
            directory: directory, manifest: manifest, memberships: tenant.memberships, nestedGroups: tenant.nestedGroups,
            largestGroup: tenant.largestGroup)
    }

    /// What the manifest's `toolVersion` records: the command that makes the same bytes again.
    package var toolVersion: String {
        "lifeboat fake-tenant generate --users \(options.users) --groups \(options.groupCount) --apps \(options.applicationCount) --seed \(options.seed)"
    }

    /// The generated objects, by collection, before they are written.
    package func build() -> GeneratedTenant {
        var builder = TenantBuilder(options: options)
        return builder.build()
    }
}

/// A synthetic tenant in memory.
package struct GeneratedTenant: Sendable {
    package var tenantID: String
    package var collections: [ObjectType: [JSONObject]]
    package var memberships: Int
    package var nestedGroups: Int
    package var largestGroup: Int
}

/// The state of one generation run.
private struct TenantBuilder {
    let options: Options
    typealias Options = TenantGenerator.Options
    var random: SeededRandom
    var usedIDs: Set<String> = []
    var tenantID = ""
    let companyName: String
    let timestamps = ISO8601DateFormatter()

    // Users, by role.
    var users: [JSONObject] = []
    /// Indices of enabled, cloud-only member users (owners, admins).
    var eligibleOwners: [Int] = []
    var memberIndices: [Int] = []
    var guestIndices: [Int] = []
    var departmentOf: [Int] = []  // per user; -1 for guests and break-glass
    var officeOf: [Int] = []
    var usersByDepartment: [[Int]] = []
    var departmentHeads: [Int] = []

    var groups: [JSONObject] = []
    var groupMembers: [[JSONValue]] = []
    var memberships = 0
    var nestedGroups = 0

    init(options: Options) {
        self.options = options
        random = SeededRandom(seed: options.seed)
        let name = options.name.lowercased()
        companyName = name.prefix(1).uppercased() + name.dropFirst() + " Ltd"
        tenantID = newID()
    }

    mutating func newID() -> String {
        while true {
            let id = random.uuid()
            if usedIDs.insert(id).inserted { return id }
        }
    }

    mutating func date(daysAgoUpTo days: Int) -> String {
        let seconds = Int(options.capturedAt.timeIntervalSince1970.rounded()) - random.int(in: 1...(days * 86_400))
        return Self.iso8601(seconds)
    }

    /// `2026-11-14T02:30:00Z` for seconds since 1970 (Foundation's formatter is the slowest part of a 100,000-user run).
    static func iso8601(_ seconds: Int) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let time = seconds - days * 86_400
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return "\(year)-\(pad(month))-\(pad(day))T\(pad(time / 3600)):\(pad(time / 60 % 60)):\(pad(time % 60))Z"
    }

    static func pad(_ value: Int, width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func reference(_ type: String, _ id: String) -> JSONValue {
        ["@odata.type": .string("#microsoft.graph.\(type)"), "id": .string(id)]
    }

    mutating func build() -> GeneratedTenant {
        var collections: [ObjectType: [JSONObject]] = [:]
        collections[.organization] = [organization()]
        collections[.domain] = domains()
        buildUsers()
        let apps = buildApplications()
        collections[.application] = apps.applications
        collections[.servicePrincipal] = apps.servicePrincipals
        buildGroups(servicePrincipals: apps.servicePrincipals)
        let units = administrativeUnits()
        collections[.administrativeUnit] = units
        collections[.appRoleAssignment] = appRoleAssignments(apps)
        collections[.oauth2PermissionGrant] = grants(apps)
        let roles = roleDefinitions()
        collections[.roleDefinition] = roles
        collections[.roleAssignment] = roleAssignments(
            customRole: roles.last!["id"]!.stringValue!, apps: apps,
            unit: units.first!["id"]!.stringValue!)
        let locations = namedLocations()
        collections[.namedLocation] = locations
        collections[.conditionalAccessPolicy] = policies(locations: locations, apps: apps)
        collections[.user] = users
        var finished: [JSONObject] = []
        finished.reserveCapacity(groups.count)
        var largest = 0
        for (index, group) in groups.enumerated() {
            var group = group
            group["members"] = .array(groupMembers[index])
            largest = max(largest, groupMembers[index].count)
            finished.append(group)
        }
        collections[.group] = finished
        return GeneratedTenant(
            tenantID: tenantID, collections: collections, memberships: memberships, nestedGroups: nestedGroups,
            largestGroup: largest)
    }

    // MARK: - Organization and domains

    func organization() -> JSONObject {
        var verified: [JSONValue] = [
            [
                "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true,
                "name": .string(options.initialDomain), "type": "Managed",
            ]
        ]
        for (index, domain) in options.customDomains.enumerated() {
            verified.append([
                "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": .bool(index == 0), "isInitial": false,
                "name": .string(domain.lowercased()), "type": "Managed",
            ])
        }
        return [
            "id": .string(tenantID), "displayName": .string(companyName), "countryLetterCode": "US", "preferredLanguage": "en",
            "city": "Seattle", "state": "WA", "postalCode": "98101", "street": "1 Synthetic Way", "businessPhones": ["+1 206 555 0100"],
            "createdDateTime": .string(timestamps.string(from: options.capturedAt.addingTimeInterval(-6 * 365 * 86_400))),
            "deletedDateTime": nil, "onPremisesSyncEnabled": true, "tenantType": "AAD",
            "technicalNotificationMails": .array([.string("it-notifications@\(options.customDomains[0].lowercased())")]),
            "marketingNotificationEmails": [], "securityComplianceNotificationMails": [], "securityComplianceNotificationPhones": [],
            "verifiedDomains": .array(verified),
        ]
    }

    func domains() -> [JSONObject] {
        func domain(_ name: String, initial: Bool, isDefault: Bool) -> JSONObject {
            [
                "id": .string(name), "authenticationType": "Managed", "availabilityStatus": nil, "isAdminManaged": true,
                "isDefault": .bool(isDefault), "isInitial": .bool(initial), "isRoot": true, "isVerified": true,
                "passwordNotificationWindowInDays": nil, "passwordValidityPeriodInDays": nil, "state": nil,
                "supportedServices": initial
                    ? ["Email", "OfficeCommunicationsOnline"] : ["Email", "OfficeCommunicationsOnline", "Intune"],
            ]
        }
        return [domain(options.initialDomain, initial: true, isDefault: false)]
            + options.customDomains.enumerated().map { domain($1.lowercased(), initial: false, isDefault: $0 == 0) }
    }

    // MARK: - Users

    mutating func buildUsers() {
        let departments = TenantVocabulary.departments
        let departmentWeights = departments.indices.map { ($0, departments[$0].weight) }
        let officeWeights = TenantVocabulary.offices.indices.map { ($0, TenantVocabulary.offices[$0].weight) }
        usersByDepartment = Array(repeating: [], count: departments.count)
        var localParts: [String: Int] = [:]
        var guestAddresses: [String: Int] = [:]
        users.reserveCapacity(options.users)

        // Two cloud-only break-glass accounts on the initial domain, as Microsoft recommends.
        for number in 1...2 {
            let upn = "bg-admin-0\(number)@\(options.initialDomain)"
            users.append([
                "id": .string(newID()), "accountEnabled": true, "displayName": .string("Break Glass Admin 0\(number)"),
                "userPrincipalName": .string(upn), "mailNickname": .string("bg-admin-0\(number)"), "mail": nil,
                "userType": "Member", "createdDateTime": .string(date(daysAgoUpTo: 2000)), "usageLocation": "US",
                "passwordPolicies": "DisablePasswordExpiration",
            ])
            departmentOf.append(-1)
            officeOf.append(0)
        }
        let customDomains = options.customDomains.map { $0.lowercased() }
        for index in 2..<options.users {
            let given = random.pick(TenantVocabulary.givenNames), surname = random.pick(TenantVocabulary.surnames)
            let isCEO = index == 2
            // About 3% guests from partner organisations (never the CEO).
            if !isCEO, random.chance(0.03) {
                let partner = random.pick(TenantVocabulary.partnerDomains)
                let base = "\(given).\(surname)".lowercased()
                let count = guestAddresses["\(base)@\(partner)", default: 0] + 1
                guestAddresses["\(base)@\(partner)"] = count
                let email = (count == 1 ? base : "\(base)\(count)") + "@\(partner)"
                let upn = email.replacingOccurrences(of: "@", with: "_") + "#EXT#@\(options.initialDomain)"
                users.append([
                    "id": .string(newID()), "accountEnabled": true, "displayName": .string("\(given) \(surname) (\(partner))"),
                    "givenName": .string(given), "surname": .string(surname), "userPrincipalName": .string(upn), "mail": .string(email),
                    "otherMails": [.string(email)], "mailNickname": .string(email.replacingOccurrences(of: "@", with: "_")),
                    "userType": "Guest", "creationType": "Invitation", "externalUserState": "Accepted",
                    "createdDateTime": .string(date(daysAgoUpTo: 1500)), "companyName": .string(partner),
                ])
                departmentOf.append(-1)
                officeOf.append(0)
                guestIndices.append(index)
                continue
            }
            let department = isCEO ? 0 : random.pick(departmentWeights)
            let office = isCEO ? 0 : random.pick(officeWeights)
            let base = "\(given).\(surname)".lowercased()
            let count = localParts[base, default: 0] + 1
            localParts[base] = count
            let local = count == 1 ? base : "\(base)\(count)"
            // Most people on the main domain, some on the others (a subsidiary or a brand).
            let domain =
                customDomains.count == 1 || random.chance(0.85)
                ? customDomains[0] : customDomains[1 + random.index(customDomains.count - 1)]
            let upn = "\(local)@\(domain)"
            let place = TenantVocabulary.offices[office]
            let synced = !isCEO && random.chance(0.10)
            let enabled = isCEO || !random.chance(0.04)
            var user: JSONObject = [
                "id": .string(newID()), "accountEnabled": .bool(enabled), "displayName": .string("\(given) \(surname)"),
                "givenName": .string(given), "surname": .string(surname), "userPrincipalName": .string(upn), "mail": .string(upn),
                "mailNickname": .string(local), "userType": "Member", "companyName": .string(companyName),
                "department": .string(isCEO ? "Executive" : departments[department].name),
                "city": .string(place.city), "country": .string(place.country), "usageLocation": .string(place.usageLocation),
                "officeLocation": .string("\(place.city) Office"), "preferredLanguage": "en-US",
                "businessPhones": [.string("\(place.phone) \(Self.pad(random.index(10_000), width: 4))")],
                "employeeId": .string(String(100_000 + index)), "employeeType": random.chance(0.08) ? "Contractor" : "Employee",
                "createdDateTime": .string(date(daysAgoUpTo: 2500)),
            ]
            if random.chance(0.5) { user["mobilePhone"] = .string("\(place.phone) \(Self.pad(random.index(10_000), width: 4))") }
            if synced {
                user["onPremisesSyncEnabled"] = true
                user["onPremisesImmutableId"] = .string(random.base64URL(bytes: 16) + "==")
                user["onPremisesSamAccountName"] = .string(String(local.prefix(20)))
                user["onPremisesDomainName"] = .string("corp.\(customDomains[0])")
                user["onPremisesLastSyncDateTime"] = .string(date(daysAgoUpTo: 1))
            }
            users.append(user)
            departmentOf.append(isCEO ? -1 : department)
            officeOf.append(office)
            memberIndices.append(index)
            if !isCEO { usersByDepartment[department].append(index) }
            if enabled && !synced { eligibleOwners.append(index) }
        }

        // The reporting tree: CEO → department heads → managers (six reports each) → staff.
        let ceo = 2
        users[ceo]["jobTitle"] = "Chief Executive Officer"
        for (department, staff) in usersByDepartment.enumerated() where !staff.isEmpty {
            let titles = departments[department].titles
            departmentHeads.append(staff[0])
            for (position, user) in staff.enumerated() {
                let manager = position == 0 ? ceo : staff[(position - 1) / 6]
                users[user]["manager"] = Self.reference("user", users[manager]["id"]!.stringValue!)
                let managesOthers = position * 6 + 1 < staff.count
                let title = position == 0 ? titles[0] : managesOthers ? titles[1] : titles[2 + random.index(titles.count - 2)]
                users[user]["jobTitle"] = .string(title)
            }
        }
        if eligibleOwners.isEmpty { eligibleOwners = [ceo] }
    }

    func userID(_ index: Int) -> String { users[index]["id"]!.stringValue! }

    // MARK: - Groups

    /// `count` distinct elements of `pool`, in pool order (so output does not depend on hash order).
    mutating func sample(_ pool: [Int], _ count: Int) -> [Int] {
        let count = min(count, pool.count)
        if count * 3 < pool.count {
            var chosen = Set<Int>()
            while chosen.count < count { chosen.insert(random.index(pool.count)) }
            return chosen.sorted().map { pool[$0] }
        }
        var positions = Array(pool.indices)
        for position in 0..<count {
            positions.swapAt(position, position + random.index(positions.count - position))
        }
        return positions[..<count].sorted().map { pool[$0] }
    }

    /// Heavy-tailed group sizes: a Pareto law (most groups have 2–20 members, a few thousands).
    mutating func groupSize(cap: Int) -> Int {
        let u = max(random.unit(), 1e-9)
        return min(cap, max(1, Int(2.0 / pow(u, 1.0 / 1.15))))
    }

    mutating func owners(_ count: Int) -> [JSONValue] {
        sample(eligibleOwners, count).map { Self.reference("user", userID($0)) }
    }

    @discardableResult
    mutating func addGroup(
        _ displayName: String, nickname: String, description: String, kind: GroupKind, members: [JSONValue],
        owners: [JSONValue], rule: String? = nil
    ) -> Int {
        let id = newID()
        var group: JSONObject = [
            "id": .string(id), "displayName": .string(displayName), "description": .string(description),
            "mailNickname": .string(nickname), "createdDateTime": .string(date(daysAgoUpTo: 2000)), "classification": nil,
            "proxyAddresses": [], "isAssignableToRole": nil, "membershipRule": nil, "membershipRuleProcessingState": nil,
            "visibility": nil, "mail": nil, "owners": .array(owners),
        ]
        let mailDomain = options.customDomains[0].lowercased()
        switch kind {
        case .security:
            group["groupTypes"] = []
            group["mailEnabled"] = false
            group["securityEnabled"] = true
        case .roleAssignable:
            group["groupTypes"] = []
            group["mailEnabled"] = false
            group["securityEnabled"] = true
            group["isAssignableToRole"] = true
        case .microsoft365:
            group["groupTypes"] = ["Unified"]
            group["mailEnabled"] = true
            group["securityEnabled"] = false
            group["mail"] = .string("\(nickname)@\(mailDomain)")
            group["proxyAddresses"] = [.string("SMTP:\(nickname)@\(mailDomain)")]
            group["visibility"] = random.chance(0.7) ? "Private" : "Public"
        case .dynamic:
            group["groupTypes"] = ["DynamicMembership"]
            group["mailEnabled"] = false
            group["securityEnabled"] = true
            group["membershipRule"] = rule.map(JSONValue.string) ?? nil
            group["membershipRuleProcessingState"] = "On"
        case .mailEnabledSecurity:
            group["groupTypes"] = []
            group["mailEnabled"] = true
            group["securityEnabled"] = true
            group["mail"] = .string("\(nickname)@\(mailDomain)")
            group["proxyAddresses"] = [.string("SMTP:\(nickname)@\(mailDomain)")]
        }
        groups.append(group)
        groupMembers.append(members)
        memberships += members.count
        return groups.count - 1
    }

    enum GroupKind { case security, roleAssignable, microsoft365, dynamic, mailEnabledSecurity }

    func groupID(_ index: Int) -> String { groups[index]["id"]!.stringValue! }

    mutating func buildGroups(servicePrincipals: [JSONObject]) {
        let total = options.groupCount
        let userRefs: (Int) -> JSONValue = { [users] in Self.reference("user", users[$0]["id"]!.stringValue!) }
        // The fixed groups every tenant has.
        addGroup(
            "SG-All-Staff", nickname: "sg-all-staff", description: "Every employee; used for licensing and company-wide access.",
            kind: .security, members: memberIndices.map(userRefs), owners: owners(2))
        addGroup(
            "SG-BreakGlass-Exclusion", nickname: "sg-breakglass-exclusion",
            description: "Emergency access accounts, excluded from every Conditional Access policy.",
            kind: .security, members: [userRefs(0), userRefs(1)], owners: [])
        let it = TenantVocabulary.departments.firstIndex { $0.name == "IT" }!
        addGroup(
            "RA-Helpdesk-Admins", nickname: "ra-helpdesk-admins", description: "Holds the Helpdesk Administrator role.",
            kind: .roleAssignable, members: sample(usersByDepartment[it], 6).map(userRefs), owners: owners(1))
        var departmentGroups: [Int] = []
        for (department, staff) in usersByDepartment.enumerated() {
            let name = TenantVocabulary.departments[department].name
            let slug = name.lowercased().replacingOccurrences(of: " ", with: "-")
            departmentGroups.append(
                addGroup(
                    "SG-\(name.replacingOccurrences(of: " ", with: ""))", nickname: "sg-\(slug)",
                    description: "All members of the \(name) department.", kind: .security,
                    members: staff.map(userRefs), owners: staff.first.map { [userRefs($0)] } ?? []))
        }
        // Nesting, as in most tenants: corporate functions hold the back-office departments.
        let backOffice = ["Finance", "Human Resources", "Legal", "Procurement"].compactMap { name in
            TenantVocabulary.departments.firstIndex { $0.name == name }.map { departmentGroups[$0] }
        }
        addGroup(
            "SG-Corporate-Functions", nickname: "sg-corporate-functions", description: "Back-office departments.", kind: .security,
            members: backOffice.map { Self.reference("group", groupID($0)) }, owners: owners(1))
        nestedGroups += backOffice.count
        // A group with service principals as members (access to a secrets vault).
        let daemonPrincipals = servicePrincipals.filter { $0["tags"]?.stringArray?.contains("LifeboatDaemon") == true }.prefix(3)
        addGroup(
            "SG-KeyVault-Secrets-Readers", nickname: "sg-keyvault-secrets-readers", description: "Workloads that read production secrets.",
            kind: .security, members: daemonPrincipals.map { Self.reference("servicePrincipal", $0["id"]!.stringValue!) }, owners: [])

        // The rest: heavy-tailed sizes, a mix of kinds, some nesting (a group only contains earlier groups: no cycles).
        let firstRandom = groups.count
        var nicknames = Set(groups.map { $0["mailNickname"]!.stringValue! })
        var nestable: [Int] = departmentGroups
        let membersAndGuests = (memberIndices + guestIndices).sorted()
        let cap = max(10, memberIndices.count / 3)
        var serial = 0
        while groups.count < total {
            serial += 1
            let word = random.pick(TenantVocabulary.projectWords), topic = random.pick(TenantVocabulary.groupTopics)
            let roll = random.unit()
            let kind: GroupKind =
                roll < 0.12
                ? .microsoft365
                : roll < 0.15
                    ? .dynamic
                    : roll < 0.16
                        ? .roleAssignable
                        : roll < 0.165 && options.mailEnabledSecurityGroups ? .mailEnabledSecurity : .security
            var size = groupSize(cap: cap)
            if kind == .roleAssignable { size = min(size, 25) }
            switch kind {
            case .microsoft365:
                var nickname = "\(word)-\(topic)".lowercased().replacingOccurrences(of: " ", with: "-")
                if nicknames.contains(nickname) { nickname += "-\(serial)" }
                nicknames.insert(nickname)
                let members = sample(membersAndGuests, size).map(userRefs)
                addGroup(
                    "\(word) \(topic)", nickname: nickname, description: "Microsoft 365 group of the \(word) \(topic.lowercased()).",
                    kind: .microsoft365, members: members, owners: owners(1 + random.index(3)))
            case .dynamic:
                let department = random.index(TenantVocabulary.departments.count)
                let office = TenantVocabulary.offices[random.index(TenantVocabulary.offices.count)]
                let departmentName = TenantVocabulary.departments[department].name
                let rule = "(user.department -eq \"\(departmentName)\") and (user.usageLocation -eq \"\(office.usageLocation)\")"
                let members = usersByDepartment[department].filter {
                    TenantVocabulary.offices[officeOf[$0]].usageLocation == office.usageLocation
                }
                let nickname =
                    "dyn-\(serial)-\(departmentName.lowercased().replacingOccurrences(of: " ", with: "-"))-\(office.usageLocation.lowercased())"
                nicknames.insert(nickname)
                addGroup(
                    "DYN-\(departmentName.replacingOccurrences(of: " ", with: ""))-\(office.usageLocation)", nickname: nickname,
                    description: "Dynamic: \(departmentName) staff in \(office.country).", kind: .dynamic,
                    members: members.map(userRefs), owners: [], rule: rule)
            case .roleAssignable, .mailEnabledSecurity, .security:
                let prefix = kind == .roleAssignable ? "RA" : kind == .mailEnabledSecurity ? "MESG" : "SG"
                let nickname = "\(prefix.lowercased())-\(word.lowercased())-\(serial)"
                nicknames.insert(nickname)
                var members = sample(memberIndices, size).map(userRefs)
                // About one security group in twenty holds other groups.
                if kind == .security, !nestable.isEmpty, random.chance(0.05) {
                    let children = sample(Array(nestable.indices), 1 + random.index(4)).map { nestable[$0] }
                    members += children.map { Self.reference("group", groupID($0)) }
                    nestedGroups += children.count
                }
                let index = addGroup(
                    "\(prefix)-\(word)-\(topic.replacingOccurrences(of: " ", with: ""))-\(serial)", nickname: nickname,
                    description: "\(word) \(topic.lowercased()).", kind: kind, members: members,
                    owners: random.chance(0.85) ? owners(1 + random.index(2)) : [])
                if kind == .security { nestable.append(index) }
            }
        }
        _ = firstRandom
    }

    // MARK: - Administrative units

    mutating func administrativeUnits() -> [JSONObject] {
        let regions: [(String, Set<String>)] = [("EMEA", ["GB", "DE", "FR", "ES"]), ("APAC", ["IN", "JP", "AU"])]
        return regions.map { region, countries in
            let members = memberIndices.filter { countries.contains(TenantVocabulary.offices[officeOf[$0]].usageLocation) }
            return [
                "id": .string(newID()), "displayName": .string("\(region) Users"), "description": .string("Staff based in \(region)."),
                "visibility": nil, "isMemberManagementRestricted": nil, "membershipRule": nil, "membershipRuleProcessingState": nil,
                "membershipType": nil, "members": .array(members.map { Self.reference("user", userID($0)) }),
            ]
        }
    }

    // MARK: - Applications

    struct Applications {
        var applications: [JSONObject]
        var servicePrincipals: [JSONObject]
        var graphPrincipalID: String
        /// Index into the arrays above of API apps (with app roles), web apps and daemons.
        var apis: [Int], webApps: [Int], daemons: [Int]
    }

    mutating func buildApplications() -> Applications {
        var applications: [JSONObject] = [], principals: [JSONObject] = []
        var apis: [Int] = [], webApps: [Int] = [], daemons: [Int] = []
        let graphPrincipalID = newID()
        let domain = options.customDomains[0].lowercased()
        var names: [String: Int] = [:]
        for index in 0..<options.applicationCount {
            let noun = TenantVocabulary.appNouns[index % TenantVocabulary.appNouns.count]
            let kind = ["API", "Web", "Daemon", "SPA"][index % 4]
            var displayName = "\(companyName.split(separator: " ").first!) \(noun) \(kind)"
            let seen = names[displayName, default: 0] + 1
            names[displayName] = seen
            if seen > 1 { displayName += " \(seen)" }
            let appID = newID(), objectID = newID(), principalID = newID()
            let slug = "\(noun.lowercased())\(seen > 1 ? String(seen) : "")"
            var appRoles: [JSONValue] = [], scopes: [JSONValue] = [], identifierUris: [JSONValue] = []
            var requiredResourceAccess: [JSONValue] = []
            var web: JSONObject = [
                "redirectUris": [], "homePageUrl": nil, "logoutUrl": nil,
                "implicitGrantSettings": ["enableAccessTokenIssuance": false, "enableIdTokenIssuance": false],
            ]
            var spa: JSONObject = ["redirectUris": []]
            switch kind {
            case "API":
                identifierUris = [.string("api://\(appID)")]
                for (role, members) in [
                    ("Reader", ["User"]), ("Contributor", ["User"]), ("Administrator", ["User"]), ("Read.All", ["Application"]),
                ]
                .prefix(2 + random.index(3)) {
                    appRoles.append([
                        "allowedMemberTypes": .array(members.map(JSONValue.string)),
                        "description": .string("\(noun) \(role.lowercased())."),
                        "displayName": .string("\(noun) \(role)"), "id": .string(newID()), "isEnabled": true, "origin": "Application",
                        "value": .string("\(noun).\(role)"),
                    ])
                }
                scopes.append([
                    "adminConsentDescription": .string("Allows the app to read \(noun.lowercased()) data on behalf of the signed-in user."),
                    "adminConsentDisplayName": .string("Read \(noun.lowercased()) data"), "id": .string(newID()), "isEnabled": true,
                    "type": "User", "userConsentDescription": .string("Read your \(noun.lowercased()) data."),
                    "userConsentDisplayName": .string("Read your \(noun.lowercased()) data"), "value": .string("\(noun).Read"),
                ])
                apis.append(applications.count)
            case "Web":
                web["redirectUris"] = [.string("https://\(slug).\(domain)/signin-oidc")]
                web["homePageUrl"] = .string("https://\(slug).\(domain)/")
                requiredResourceAccess.append([
                    "resourceAppId": .string(TenantVocabulary.graphAppID),
                    "resourceAccess": .array(TenantVocabulary.graphScopes.prefix(3).map { ["id": .string($0.id), "type": "Scope"] }),
                ])
                // A web front end usually calls one of the tenant's own APIs.
                if let api = apis.last {
                    let scope = principals[api]["oauth2PermissionScopes"]!.arrayValue![0]
                    requiredResourceAccess.append([
                        "resourceAppId": applications[api]["appId"]!,
                        "resourceAccess": [["id": scope["id"]!, "type": "Scope"]],
                    ])
                }
                webApps.append(applications.count)
            case "Daemon":
                let roles = Array(TenantVocabulary.graphAppRoles.prefix(1 + random.index(3)))
                requiredResourceAccess.append([
                    "resourceAppId": .string(TenantVocabulary.graphAppID),
                    "resourceAccess": .array(roles.map { ["id": .string($0.id), "type": "Role"] }),
                ])
                daemons.append(applications.count)
            default:
                spa["redirectUris"] = [.string("https://\(slug).\(domain)/")]
                requiredResourceAccess.append([
                    "resourceAppId": .string(TenantVocabulary.graphAppID),
                    "resourceAccess": [["id": .string(TenantVocabulary.graphScopes[0].id), "type": "Scope"]],
                ])
            }
            let created = date(daysAgoUpTo: 1500)
            applications.append([
                "id": .string(objectID), "appId": .string(appID), "displayName": .string(displayName),
                "description": .string("\(noun) (\(kind))."), "createdDateTime": .string(created), "deletedDateTime": nil,
                "signInAudience": "AzureADMyOrg", "publisherDomain": .string(domain), "identifierUris": .array(identifierUris),
                "tags": [], "notes": nil, "isFallbackPublicClient": nil, "groupMembershipClaims": nil,
                "appRoles": .array(appRoles),
                "api": [
                    "acceptMappedClaims": nil, "knownClientApplications": [], "oauth2PermissionScopes": .array(scopes),
                    "preAuthorizedApplications": [], "requestedAccessTokenVersion": 2,
                ],
                "requiredResourceAccess": .array(requiredResourceAccess), "web": .object(web), "spa": .object(spa),
                "publicClient": ["redirectUris": []], "keyCredentials": [],
                "passwordCredentials": kind == "SPA"
                    ? []
                    : [
                        [
                            "customKeyIdentifier": nil, "displayName": "production", "endDateTime": "2027-06-30T00:00:00Z",
                            "hint": .string(String(random.base64URL(bytes: 3).prefix(3))), "keyId": .string(newID()), "secretText": nil,
                            "startDateTime": .string(created),
                        ]
                    ],
            ])
            principals.append([
                "id": .string(principalID), "accountEnabled": true, "appId": .string(appID), "appDisplayName": .string(displayName),
                "displayName": .string(displayName), "appOwnerOrganizationId": .string(tenantID),
                "appRoleAssignmentRequired": .bool(kind == "API"), "appRoles": .array(appRoles), "oauth2PermissionScopes": .array(scopes),
                "servicePrincipalNames": .array([.string(appID)] + identifierUris), "servicePrincipalType": "Application",
                "signInAudience": "AzureADMyOrg", "replyUrls": web["redirectUris"]!,
                "tags": kind == "Daemon"
                    ? ["WindowsAzureActiveDirectoryIntegratedApp", "LifeboatDaemon"] : ["WindowsAzureActiveDirectoryIntegratedApp"],
                "keyCredentials": [], "passwordCredentials": [], "notes": nil, "description": nil,
            ])
        }
        // Microsoft Graph's own service principal: first-party, looked up in the target rather than created.
        principals.append([
            "id": .string(graphPrincipalID), "accountEnabled": true, "appId": .string(TenantVocabulary.graphAppID),
            "appDisplayName": "Microsoft Graph", "displayName": "Microsoft Graph",
            "appOwnerOrganizationId": .string(TenantVocabulary.microsoftTenantID), "appRoleAssignmentRequired": false,
            "appRoles": .array(
                TenantVocabulary.graphAppRoles.map {
                    [
                        "allowedMemberTypes": ["Application"], "description": .string($0.value), "displayName": .string($0.value),
                        "id": .string($0.id), "isEnabled": true, "origin": "Application", "value": .string($0.value),
                    ]
                }),
            "oauth2PermissionScopes": .array(
                TenantVocabulary.graphScopes.map {
                    [
                        "adminConsentDescription": .string($0.value), "adminConsentDisplayName": .string($0.value), "id": .string($0.id),
                        "isEnabled": true, "type": "User", "value": .string($0.value),
                    ]
                }),
            "servicePrincipalNames": [.string(TenantVocabulary.graphAppID), "https://graph.microsoft.com"],
            "servicePrincipalType": "Application", "signInAudience": "AzureADMultipleOrgs", "tags": [], "replyUrls": [],
            "keyCredentials": [], "passwordCredentials": [],
        ])
        return Applications(
            applications: applications, servicePrincipals: principals, graphPrincipalID: graphPrincipalID,
            apis: apis, webApps: webApps, daemons: daemons)
    }

    mutating func appRoleAssignment(principal: String, type: String, name: String, role: String, resource: JSONObject) -> JSONObject {
        let created = date(daysAgoUpTo: 1000)
        return [
            "id": .string(random.base64URL(bytes: 32)), "appRoleId": .string(role), "createdDateTime": .string(created),
            "deletedDateTime": nil, "principalDisplayName": .string(name), "principalId": .string(principal),
            "principalType": .string(type), "resourceDisplayName": resource["displayName"]!, "resourceId": resource["id"]!,
        ]
    }

    mutating func appRoleAssignments(_ apps: Applications) -> [JSONObject] {
        var assignments: [JSONObject] = []
        for api in apps.apis {
            let resource = apps.servicePrincipals[api]
            for role in resource["appRoles"]?.arrayValue ?? [] where role["allowedMemberTypes"]?.stringArray == ["User"] {
                let roleID = role["id"]!.stringValue!
                // A few groups and a few people per role (assigned security or Microsoft 365 groups).
                for _ in 0..<(1 + random.index(2)) {
                    let pick = 3 + random.index(groups.count - 3)
                    let group = groups[pick]
                    guard group["groupTypes"]?.stringArray?.contains("DynamicMembership") == false else { continue }
                    assignments.append(
                        appRoleAssignment(
                            principal: group["id"]!.stringValue!, type: "Group",
                            name: group["displayName"]!.stringValue!, role: roleID, resource: resource))
                }
                for user in sample(eligibleOwners, 1 + random.index(3)) {
                    assignments.append(
                        appRoleAssignment(
                            principal: userID(user), type: "User", name: users[user]["displayName"]!.stringValue!,
                            role: roleID, resource: resource))
                }
            }
            // A daemon with an application permission on the API.
            if let applicationRole = resource["appRoles"]?.arrayValue?.first(where: {
                $0["allowedMemberTypes"]?.stringArray == ["Application"]
            }),
                let daemon = apps.daemons.first
            {
                let client = apps.servicePrincipals[daemon]
                assignments.append(
                    appRoleAssignment(
                        principal: client["id"]!.stringValue!, type: "ServicePrincipal",
                        name: client["displayName"]!.stringValue!, role: applicationRole["id"]!.stringValue!,
                        resource: resource))
            }
        }
        // Application permissions on Microsoft Graph, granted to the daemons.
        let graph = apps.servicePrincipals.last!
        for daemon in apps.daemons {
            let client = apps.servicePrincipals[daemon]
            for access in apps.applications[daemon]["requiredResourceAccess"]?.arrayValue?.first?["resourceAccess"]?.arrayValue ?? [] {
                assignments.append(
                    appRoleAssignment(
                        principal: client["id"]!.stringValue!, type: "ServicePrincipal",
                        name: client["displayName"]!.stringValue!, role: access["id"]!.stringValue!, resource: graph))
            }
        }
        return assignments
    }

    mutating func grants(_ apps: Applications) -> [JSONObject] {
        var grants: [JSONObject] = []
        // Admin consent for every web app to sign users in through Microsoft Graph.
        for web in apps.webApps {
            grants.append([
                "id": .string(random.base64URL(bytes: 32)), "clientId": apps.servicePrincipals[web]["id"]!, "consentType": "AllPrincipals",
                "principalId": nil, "resourceId": .string(apps.graphPrincipalID), "scope": "User.Read openid profile",
            ])
        }
        // One user's own consent to an API.
        if let web = apps.webApps.first, let api = apps.apis.first, let user = eligibleOwners.first {
            let scope = apps.servicePrincipals[api]["oauth2PermissionScopes"]!.arrayValue![0]["value"]!
            grants.append([
                "id": .string(random.base64URL(bytes: 48)), "clientId": apps.servicePrincipals[web]["id"]!, "consentType": "Principal",
                "principalId": .string(userID(user)), "resourceId": apps.servicePrincipals[api]["id"]!, "scope": scope,
            ])
        }
        return grants
    }

    // MARK: - Roles

    mutating func roleDefinitions() -> [JSONObject] {
        var definitions: [JSONObject] = TenantVocabulary.builtInRoles.map { role in
            [
                "id": .string(role.id), "templateId": .string(role.id), "displayName": .string(role.name),
                "description": .string(role.description),
                "isBuiltIn": true, "isEnabled": true, "resourceScopes": ["/"], "version": "1",
                "rolePermissions": [["allowedResourceActions": ["microsoft.directory/users/standard/read"], "condition": nil]],
            ]
        }
        let custom = newID()
        definitions.append([
            "id": .string(custom), "templateId": .string(custom), "displayName": .string("\(companyName) Helpdesk Tier 1"),
            "description": "Resets passwords and reads sign-in logs for standard users.", "isBuiltIn": false, "isEnabled": true,
            "resourceScopes": ["/"], "version": nil,
            "rolePermissions": [
                [
                    "allowedResourceActions": [
                        "microsoft.directory/users/password/update", "microsoft.directory/auditLogs/allProperties/read",
                    ],
                    "condition": nil,
                ]
            ],
        ])
        return definitions
    }

    mutating func roleAssignment(_ role: String, _ principal: String, scope: String = "/") -> JSONObject {
        [
            "id": .string(random.base64URL(bytes: 32) + "-1"), "roleDefinitionId": .string(role), "principalId": .string(principal),
            "directoryScopeId": .string(scope),
        ]
    }

    mutating func roleAssignments(customRole: String, apps: Applications, unit: String) -> [JSONObject] {
        var assignments: [JSONObject] = []
        let roles = Dictionary(uniqueKeysWithValues: TenantVocabulary.builtInRoles.map { ($0.name, $0.id) })
        assignments.append(roleAssignment(roles["Global Administrator"]!, userID(0)))
        assignments.append(roleAssignment(roles["Global Administrator"]!, userID(1)))
        assignments.append(roleAssignment(roles["Helpdesk Administrator"]!, groupID(2)))
        let eligible = Set(eligibleOwners)
        let it = TenantVocabulary.departments.firstIndex { $0.name == "IT" }!
        let security = TenantVocabulary.departments.firstIndex { $0.name == "Security" }!
        let itStaff = usersByDepartment[it].filter(eligible.contains).map(userID)
        let securityStaff = usersByDepartment[security].filter(eligible.contains).map(userID)
        for user in itStaff.prefix(1) { assignments.append(roleAssignment(roles["Global Reader"]!, user)) }
        for user in itStaff.dropFirst().prefix(3) { assignments.append(roleAssignment(roles["User Administrator"]!, user)) }
        for user in itStaff.dropFirst(4).prefix(2) { assignments.append(roleAssignment(roles["Groups Administrator"]!, user)) }
        for user in itStaff.dropFirst(6).prefix(3) { assignments.append(roleAssignment(customRole, user)) }
        for user in securityStaff.prefix(2) {
            assignments.append(roleAssignment(roles["Security Administrator"]!, user))
            assignments.append(roleAssignment(roles["Conditional Access Administrator"]!, user))
        }
        // Scoped assignments: one application, one administrative unit.
        if let admin = itStaff.dropFirst(9).first ?? itStaff.first {
            if let app = apps.applications.first {
                assignments.append(roleAssignment(roles["Application Administrator"]!, admin, scope: "/\(app["id"]!.stringValue!)"))
            }
            assignments.append(roleAssignment(roles["Helpdesk Administrator"]!, admin, scope: "/administrativeUnits/\(unit)"))
        }
        return assignments
    }

    // MARK: - Conditional Access

    mutating func namedLocations() -> [JSONObject] {
        [
            [
                "@odata.type": "#microsoft.graph.ipNamedLocation", "id": .string(newID()), "displayName": .string("\(companyName) offices"),
                "createdDateTime": .string(date(daysAgoUpTo: 1500)), "modifiedDateTime": .string(date(daysAgoUpTo: 300)), "isTrusted": true,
                "ipRanges": [
                    ["@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"],
                    ["@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"],
                    ["@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8:1::/48"],
                ],
            ],
            [
                "@odata.type": "#microsoft.graph.countryNamedLocation", "id": .string(newID()), "displayName": "Blocked countries",
                "createdDateTime": .string(date(daysAgoUpTo: 1500)), "modifiedDateTime": .string(date(daysAgoUpTo: 300)),
                "countriesAndRegions": ["KP", "IR", "SY", "CU"], "includeUnknownCountriesAndRegions": false,
                "countryLookupMethod": "clientIpAddress",
            ],
        ]
    }

    mutating func policies(locations: [JSONObject], apps: Applications) -> [JSONObject] {
        let breakGlass: [JSONValue] = [.string(userID(0)), .string(userID(1))]
        let exclusionGroup = JSONValue.string(groupID(1))
        let trusted = locations[0]["id"]!, blocked = locations[1]["id"]!
        let adminRoles = TenantVocabulary.builtInRoles.prefix(6).map { JSONValue.string($0.id) }
        let unified = groups.firstIndex { $0["groupTypes"]?.stringArray == ["Unified"] }.map(groupID) ?? groupID(0)
        let apiApp = apps.apis.first.map { apps.applications[$0]["appId"]! } ?? "All"
        let webApp = apps.webApps.first.map { apps.applications[$0]["appId"]! } ?? "All"
        func conditions(
            users: JSONObject, applications: [JSONValue] = ["All"], clientAppTypes: [JSONValue] = ["all"],
            locations: JSONValue = nil
        ) -> JSONValue {
            var userSet: JSONObject = [
                "includeUsers": [], "excludeUsers": .array(breakGlass), "includeGroups": [],
                "excludeGroups": [exclusionGroup], "includeRoles": [], "excludeRoles": [],
                "includeGuestsOrExternalUsers": nil, "excludeGuestsOrExternalUsers": nil,
            ]
            userSet.merge(users) { $1 }
            return [
                "applications": [
                    "includeApplications": .array(applications), "excludeApplications": [], "includeUserActions": [],
                    "includeAuthenticationContextClassReferences": [], "applicationFilter": nil,
                ],
                "users": .object(userSet), "clientAppTypes": .array(clientAppTypes), "clientApplications": nil, "devices": nil,
                "platforms": nil, "locations": locations, "servicePrincipalRiskLevels": [], "signInRiskLevels": [], "userRiskLevels": [],
            ]
        }
        func grant(_ controls: [JSONValue]) -> JSONValue {
            [
                "operator": "OR", "builtInControls": .array(controls), "customAuthenticationFactors": [], "termsOfUse": [],
                "authenticationStrength": nil,
            ]
        }
        func policy(_ name: String, state: String, _ conditions: JSONValue, _ grant: JSONValue, session: JSONValue = nil) -> JSONObject {
            [
                "id": .string(newID()), "displayName": .string(name), "state": .string(state),
                "createdDateTime": .string(date(daysAgoUpTo: 1500)), "modifiedDateTime": .string(date(daysAgoUpTo: 200)), "templateId": nil,
                "conditions": conditions, "grantControls": grant, "sessionControls": session,
            ]
        }
        return [
            policy("Require MFA for admins", state: "enabled", conditions(users: ["includeRoles": .array(adminRoles)]), grant(["mfa"])),
            policy(
                "Block legacy authentication", state: "enabled",
                conditions(users: ["includeUsers": ["All"]], clientAppTypes: ["exchangeActiveSync", "other"]), grant(["block"])),
            policy(
                "Block sign-ins from blocked countries", state: "enabled",
                conditions(users: ["includeUsers": ["All"]], locations: ["includeLocations": [blocked], "excludeLocations": []]),
                grant(["block"])),
            policy(
                "Require compliant device outside the offices", state: "enabledForReportingButNotEnforced",
                conditions(
                    users: ["includeGroups": [.string(groupID(0))], "excludeUsers": .array(breakGlass)], applications: [apiApp, webApp],
                    locations: ["includeLocations": ["All"], "excludeLocations": [trusted, "AllTrusted"]]),
                grant(["compliantDevice", "domainJoinedDevice"])),
            policy(
                "Guests: MFA and short sessions", state: "enabled",
                conditions(users: ["includeUsers": ["GuestsOrExternalUsers"], "includeGroups": [.string(unified)]]), grant(["mfa"]),
                session: [
                    "signInFrequency": [
                        "value": 8, "type": "hours", "isEnabled": true, "authenticationType": "primaryAndSecondaryAuthentication",
                        "frequencyInterval": "timeBased",
                    ],
                    "applicationEnforcedRestrictions": nil, "cloudAppSecurity": nil, "persistentBrowser": nil,
                    "disableResilienceDefaults": nil,
                ]),
        ]
    }
}

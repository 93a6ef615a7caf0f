import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// Reads the files classic PowerShell export scripts write: `Export-Csv` of the AzureAD, MSOnline or
/// Microsoft.Graph modules' objects, and `ConvertTo-Json` of Conditional Access policies.
///
/// Files are recognised by name, case- and punctuation-insensitively, with an optional module prefix
/// (`Get-`, `AzureAD`, `Msol`, `Mg`) and date suffix: `users.csv`, `AzureADUsers.csv`, `Get-MgUser.csv`,
/// `group-members-2024-05-01.csv` … (see ``FileKind``).
struct PowerShellImporter {
    /// What a file holds.
    enum FileKind: String, CaseIterable {
        case users, groups, groupMembers, groupOwners, applications, servicePrincipals, directoryRoles, roleMembers
        case domains, organization, conditionalAccessPolicies, namedLocations

        /// Normalised base names (lower case, letters and digits; module prefix and digits removed).
        var names: [String] {
            switch self {
            case .users: ["users", "user", "allusers"]
            case .groups: ["groups", "group", "allgroups"]
            case .groupMembers: ["groupmembers", "groupmember", "groupmembership", "groupmemberships", "members"]
            case .groupOwners: ["groupowners", "groupowner", "owners"]
            case .applications: ["applications", "application", "apps", "appregistrations"]
            case .servicePrincipals: ["serviceprincipals", "serviceprincipal", "enterpriseapps", "enterpriseapplications"]
            case .directoryRoles:
                [
                    "directoryroles", "directoryrole", "roles", "role", "roledefinitions", "roledefinition",
                    "rolemanagementdirectoryroledefinition", "rolemanagementdirectoryroledefinitions",
                ]
            case .roleMembers:
                [
                    "rolemembers", "rolemember", "directoryrolemembers", "directoryrolemember", "rolememberships",
                    "rolemembership", "roleassignments", "roleassignment", "rolemanagementdirectoryroleassignment",
                    "rolemanagementdirectoryroleassignments",
                ]
            case .domains: ["domains", "domain"]
            case .organization:
                ["organization", "organisation", "tenant", "tenantdetail", "tenantdetails", "company", "companyinformation"]
            case .conditionalAccessPolicies:
                [
                    "conditionalaccesspolicies", "conditionalaccesspolicy", "capolicies", "capolicy",
                    "conditionalaccess", "identityconditionalaccesspolicy", "identityconditionalaccesspolicies",
                ]
            case .namedLocations:
                [
                    "namedlocations", "namedlocation", "identityconditionalaccessnamedlocation",
                    "identityconditionalaccessnamedlocations",
                ]
            }
        }

        var isJSON: Bool { self == .conditionalAccessPolicies || self == .namedLocations }

        /// The file names documented in `lifeboat snapshot import --help`.
        static let documented = """
            users.csv, groups.csv, group-members.csv, group-owners.csv, applications.csv, service-principals.csv,
            directory-roles.csv, role-members.csv, domains.csv, organization.csv,
            conditional-access-policies.json, named-locations.json
            """

        static func of(_ fileName: String) -> FileKind? {
            let url = URL(fileURLWithPath: fileName)
            let ext = url.pathExtension.lowercased()
            var base = CSVTable.key(url.deletingPathExtension().lastPathComponent)
            while let last = base.last, last.isNumber { base.removeLast() }
            // `Get-MgUser` → `mguser` → `user`: strip module prefixes one after the other.
            var candidates = [base]
            var stripped = true
            while stripped {
                stripped = false
                for prefix in ["export", "get", "azureadms", "azuread", "msol", "mg", "entra", "aad"]
                where base.hasPrefix(prefix) && base.count > prefix.count {
                    base = String(base.dropFirst(prefix.count))
                    candidates.append(base)
                    stripped = true
                    break
                }
            }
            return FileKind.allCases.first { kind in
                candidates.contains { kind.names.contains($0) } && (kind.isJSON ? ext == "json" : ext == "csv")
            }
        }
    }

    var input: ImportInput
    var tenant = ImportedTenant()
    /// The column of each rule, per file and type: looked up once per file, not once per row.
    private var ruleColumns: [String: [Int?]] = [:]

    init(root: URL) {
        input = ImportInput(root: root)
    }

    mutating func read() throws(ImportError) -> ImportedTenant {
        var files: [FileKind: URL] = [:]
        for entry in input.entries(input.root) where !input.isDirectory(entry) {
            guard let kind = FileKind.of(entry.lastPathComponent) else {
                tenant.ignoredFiles.append(input.relative(entry))
                continue
            }
            if let other = files[kind] {
                throw ImportError(
                    file: input.relative(entry), problem: "looks like the same export as \(input.relative(other)) (\(kind.rawValue))",
                    hint: "keep one file per kind in the directory")
            }
            files[kind] = entry
        }
        guard !files.isEmpty else {
            throw ImportError(
                file: input.root.path, problem: "holds no file Lifeboat recognises",
                hint: "expected some of: \(FileKind.documented.replacingOccurrences(of: "\n", with: " "))")
        }
        if let url = files[.organization] { try readOrganization(url) }
        if let url = files[.domains] { try readDomains(url) }
        if let url = files[.users] { try readUsers(url) }
        if let url = files[.groups] { try readGroups(url) }
        if let url = files[.applications] {
            try readObjects(url, .application, PowerShellColumns.application, required: ["id", "appId", "displayName"])
        }
        if let url = files[.servicePrincipals] {
            try readObjects(url, .servicePrincipal, PowerShellColumns.servicePrincipal, required: ["id", "appId"])
        }
        var roleObjectToTemplate: [String: String] = [:]
        if let url = files[.directoryRoles] { roleObjectToTemplate = try readRoles(url) }
        if let url = files[.namedLocations] { try readNamedLocations(url) }
        if let url = files[.conditionalAccessPolicies] { try readPolicies(url) }
        // Relationships last: they refer to the objects above.
        if let url = files[.groupMembers] { try readGroupRelationship(url, defaultRelationship: "members") }
        if let url = files[.groupOwners] { try readGroupRelationship(url, defaultRelationship: "owners") }
        if let url = files[.roleMembers] { try readRoleMembers(url, roleObjectToTemplate: roleObjectToTemplate) }
        resolveManagers()
        recordCollectionLosses(files)
        PolicyReferenceCheck.record(in: &tenant)
        if tenant.sourceInitialDomain == nil {
            tenant.sourceInitialDomain = (tenant.collections[.domain] ?? []).first { $0.properties["isInitial"]?.boolValue == true }?.id
        }
        tenant.exportedAt = input.newestFile
        return tenant
    }

    // MARK: Rows to objects

    /// Converts one row with a rule set; flattened multi-valued and complex columns become losses.
    /// `reportedByCaller`: properties whose flattening the caller explains itself (e.g. groupTypes, inferred).
    private mutating func convert(
        _ row: CSVRow, _ table: CSVTable, _ type: ObjectType, _ rules: [ColumnRule], reportedByCaller: Set<String> = []
    ) throws(ImportError) -> (JSONObject, ImportOrigin) {
        var properties: JSONObject = [:]
        var origin = ImportOrigin(file: table.file, line: row.line)
        var pendingLosses: [(property: String, column: String, kind: String, reason: String)] = []
        // The rules of a type are one static list; its size and ends tell lists apart.
        let cacheKey =
            "\(table.file)\u{0}\(type.rawValue)\u{0}\(rules.count)\u{0}\(rules.first?.property ?? "")\u{0}\(rules.last?.property ?? "")"
        let columns: [Int?]
        if let cached = ruleColumns[cacheKey] {
            columns = cached
        } else {
            columns = rules.map { table.column($0.columns) }
            ruleColumns[cacheKey] = columns
        }
        for (rule, column) in zip(rules, columns) {
            guard properties[rule.property] == nil, origin.columns[rule.property] == nil, let column else { continue }
            let name = table.name(column)
            let text = row.fields[column]
            let trimmed = CSVTable.trimmed(text)
            origin.columns[rule.property] = name
            guard !trimmed.isEmpty else { continue }
            switch rule.value {
            case .string:
                properties[rule.property] = .string(text)
            case .bool, .invertedBool:
                guard let value = Self.bool(trimmed) else {
                    throw ImportError(file: table.file, line: row.line, column: name, problem: "\"\(trimmed)\" is not True or False")
                }
                properties[rule.property] = .bool(rule.value == .invertedBool ? !value : value)
            case .strings:
                if PowerShellJSON.isTypeName(trimmed) {
                    pendingLosses.append(
                        (
                            rule.property, name, "flattened",
                            "Export-Csv wrote the type name \(trimmed) instead of the values; join them with -join ';' in the export"
                        ))
                } else {
                    properties[rule.property] = .array(Self.split(text).map(JSONValue.string))
                }
            case .complex:
                let reason =
                    PowerShellJSON.isTypeName(trimmed)
                    ? "Export-Csv wrote the type name \(trimmed) instead of the value"
                    : "a CSV cell cannot carry the structured value (\(trimmed.prefix(40))\(trimmed.count > 40 ? "…" : ""))"
                pendingLosses.append((rule.property, name, "flattened", reason))
            }
        }
        for loss in pendingLosses where !reportedByCaller.contains(loss.property) {
            tenant.lose(type, properties, property: loss.property, origin: origin, column: loss.column, kind: loss.kind, loss.reason)
        }
        return (properties, origin)
    }

    private static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "true", "1", "yes", "y", "$true": true
        case "false", "0", "no", "n", "$false": false
        default: nil
        }
    }

    /// A joined multi-valued cell: `;` or line breaks separate the values.
    static func split(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == ";" || $0 == "\n" || $0 == "\r" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Checks that the header has a column for each required property.
    private func require(_ table: CSVTable, _ rules: [ColumnRule], _ properties: [String]) throws(ImportError) {
        for property in properties {
            let names = rules.filter { $0.property == property }.flatMap(\.columns)
            guard table.column(names) == nil else { continue }
            throw ImportError(
                file: table.file, line: table.headerLine, column: property,
                problem: "no column for \(property)", hint: "expected one of: \(Self.unique(names).joined(separator: ", "))")
        }
    }

    private static func unique(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.filter { seen.insert(CSVTable.key($0)).inserted }
    }

    /// Columns with values that no rule reads: listed once per file, so nothing disappears silently.
    private mutating func reportUnmapped(_ table: CSVTable, _ type: ObjectType, _ rules: [ColumnRule], alsoRead: [String] = []) {
        let read = PowerShellColumns.columnKeys(rules).union(alsoRead.map(CSVTable.key)).union(PowerShellColumns.informational)
        for (index, name) in table.header.enumerated() where !read.contains(CSVTable.key(name)) {
            guard table.rows.contains(where: { !$0.fields[index].trimmingCharacters(in: .whitespaces).isEmpty }) else { continue }
            tenant.lose(
                ImportLoss(
                    type: type, property: nil, file: table.file, column: name, kind: "unmapped",
                    reason: "column \(name) has no Graph property Lifeboat restores; not imported"))
        }
    }

    private mutating func readObjects(_ url: URL, _ type: ObjectType, _ rules: [ColumnRule], required: [String]) throws(ImportError) {
        let table = try input.csv(url)
        try require(table, rules, required)
        tenant.declare(type)
        for row in table.rows {
            let (properties, origin) = try convert(row, table, type, rules)
            tenant.add(type, properties, origin: origin)
        }
        reportUnmapped(table, type, rules)
    }

    // MARK: Users and groups

    private mutating func readUsers(_ url: URL) throws(ImportError) {
        let table = try input.csv(url)
        let rules = PowerShellColumns.user
        try require(table, rules, ["id", "userPrincipalName", "displayName"])
        tenant.declare(.user)
        let managerColumn = table.column(["ManagerId", "ManagerObjectId", "Manager", "ManagerUserPrincipalName", "ManagerUPN"])
        for row in table.rows {
            var (properties, origin) = try convert(row, table, .user, rules)
            if let managerColumn {
                let value = row.fields[managerColumn].trimmingCharacters(in: .whitespaces)
                if !value.isEmpty {
                    // Resolved to an id once every user is read (the column may hold a UPN).
                    properties["manager"] = ["id": .string(value), "@odata.type": "#microsoft.graph.user"]
                    origin.columns["manager"] = table.name(managerColumn)
                }
            }
            tenant.add(.user, properties, origin: origin)
        }
        let managerColumns = managerColumn.map { [table.name($0)] } ?? []
        reportUnmapped(table, .user, rules, alsoRead: managerColumns)
    }

    /// A manager column may hold the manager's UPN: turn it into the id, or drop it as a loss.
    private mutating func resolveManagers() {
        guard var users = tenant.collections[.user] else { return }
        var idByUPN: [String: String] = [:]
        var ids = Set<String>()
        for user in users {
            if let id = user.id { ids.insert(id) }
            if let upn = user.properties["userPrincipalName"]?.stringValue, let id = user.id { idByUPN[upn.lowercased()] = id }
        }
        for index in users.indices {
            guard let value = users[index].properties["manager"]?["id"]?.stringValue else { continue }
            if ids.contains(value) { continue }
            if let id = idByUPN[value.lowercased()] {
                users[index].properties["manager"] = ["id": .string(id), "@odata.type": "#microsoft.graph.user"]
                continue
            }
            users[index].properties["manager"] = nil
            tenant.lose(
                .user, users[index].properties, property: "manager", origin: users[index].origin, kind: "unresolved",
                "the manager \(value) is not a user in the export")
        }
        tenant.collections[.user] = users
    }

    private mutating func readGroups(_ url: URL) throws(ImportError) {
        let table = try input.csv(url)
        let rules = PowerShellColumns.group
        try require(table, rules, ["id", "displayName"])
        tenant.declare(.group)
        let groupTypeColumn = table.column(["GroupType"])  // MSOnline: Security, DistributionList, MailEnabledSecurity
        for row in table.rows {
            var (properties, origin) = try convert(row, table, .group, rules, reportedByCaller: ["groupTypes"])
            if let groupTypeColumn, properties["mailEnabled"] == nil || properties["securityEnabled"] == nil {
                let kind = row.fields[groupTypeColumn].trimmingCharacters(in: .whitespaces).lowercased()
                switch kind {
                case "security": properties["mailEnabled"] = false; properties["securityEnabled"] = true
                case "distributionlist": properties["mailEnabled"] = true; properties["securityEnabled"] = false
                case "mailenabledsecurity": properties["mailEnabled"] = true; properties["securityEnabled"] = true
                case "": break
                default:
                    throw ImportError(
                        file: table.file, line: row.line, column: table.name(groupTypeColumn),
                        problem: "\"\(kind)\" is not Security, DistributionList or MailEnabledSecurity")
                }
                origin.columns["mailEnabled"] = table.name(groupTypeColumn)
                origin.columns["securityEnabled"] = table.name(groupTypeColumn)
            }
            for flag in ["mailEnabled", "securityEnabled"] where properties[flag] == nil {
                let value = flag == "securityEnabled"
                properties[flag] = .bool(value)
                tenant.lose(
                    .group, properties, property: flag, origin: origin, column: origin.columns[flag], kind: "inferred",
                    "not in the export; assumed \(value) (a security group)")
            }
            inferGroupTypes(&properties, origin: origin, hadColumn: origin.columns["groupTypes"] != nil)
            if properties["mailNickname"] == nil {
                let source =
                    properties["mail"]?.stringValue?.split(separator: "@").first.map(String.init)
                    ?? properties["displayName"]?.stringValue ?? "group"
                let nickname = String(
                    source.filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }.prefix(64))
                properties["mailNickname"] = .string(nickname.isEmpty ? "group" : nickname)
                tenant.lose(
                    .group, properties, property: "mailNickname", origin: origin, kind: "inferred",
                    "not in the export; made from the \(properties["mail"] != nil ? "mail address" : "display name")")
            }
            tenant.add(.group, properties, origin: origin)
        }
        reportUnmapped(table, .group, rules, alsoRead: groupTypeColumn.map { [table.name($0)] } ?? [])
    }

    /// `groupTypes` is flattened (`System.String[]`) by Microsoft.Graph exports and absent from AzureAD's
    /// `Get-AzureADGroup`: rebuild what can be told from the other columns, and say so.
    private mutating func inferGroupTypes(_ properties: inout JSONObject, origin: ImportOrigin, hadColumn: Bool) {
        guard properties["groupTypes"] == nil else { return }
        var types: [JSONValue] = []
        var reasons: [String] = []
        if let rule = properties["membershipRule"]?.stringValue, !rule.isEmpty {
            types.append("DynamicMembership")
            reasons.append("DynamicMembership because it has a membershipRule")
        }
        if properties["mailEnabled"]?.boolValue == true, properties["securityEnabled"]?.boolValue == false {
            types.append("Unified")
            reasons.append("Unified because it is mail-enabled and not security-enabled (a distribution list looks the same)")
        }
        properties["groupTypes"] = .array(types)
        let cause = hadColumn ? "groupTypes was flattened to a type name" : "groupTypes is not in the export"
        let inference = reasons.isEmpty ? "assumed none (a security group)" : "inferred " + reasons.joined(separator: "; ")
        tenant.lose(.group, properties, property: "groupTypes", origin: origin, kind: "inferred", "\(cause); \(inference)")
    }

    /// `group-members.csv` / `group-owners.csv`: one row per (group, member).
    private mutating func readGroupRelationship(_ url: URL, defaultRelationship: String) throws(ImportError) {
        let table = try input.csv(url)
        let groupIDColumn = table.column(["GroupObjectId", "GroupId", "GroupObjectID", "ParentId", "ParentObjectId"])
        let groupNameColumn = table.column(["GroupDisplayName", "GroupName", "Group"])
        let memberIDColumn = table.column(["MemberObjectId", "MemberId", "OwnerObjectId", "OwnerId", "ObjectId", "Id"])
        let memberUPNColumn = table.column([
            "MemberUserPrincipalName", "MemberUPN", "OwnerUserPrincipalName", "UserPrincipalName", "EmailAddress",
        ])
        let typeColumn = table.column([
            "MemberObjectType", "MemberType", "OwnerObjectType", "ObjectType", "OdataType", "@odata.type", "RoleMemberType",
        ])
        let relationshipColumn = table.column(["Relationship", "Role", "MembershipType"])
        guard groupIDColumn != nil || groupNameColumn != nil else {
            throw ImportError(
                file: table.file, line: table.headerLine, column: "GroupObjectId", problem: "no column names the group",
                hint: "add GroupObjectId (or GroupId, or GroupDisplayName) with the group of each row")
        }
        guard memberIDColumn != nil || memberUPNColumn != nil else {
            throw ImportError(
                file: table.file, line: table.headerLine, column: "MemberObjectId", problem: "no column names the member",
                hint: "add MemberObjectId (or ObjectId, or MemberUserPrincipalName)")
        }
        guard var groups = tenant.collections[.group] else {
            throw ImportError(
                file: table.file, problem: "group memberships need the groups export",
                hint: "add groups.csv (Get-AzureADGroup / Get-MgGroup | Export-Csv) to the directory")
        }
        var groupIndex: [String: Int] = [:]
        var groupsByName: [String: [Int]] = [:]
        for (index, group) in groups.enumerated() {
            if let id = group.id { groupIndex[id.lowercased()] = index }
            if let name = group.properties["displayName"]?.stringValue { groupsByName[name.lowercased(), default: []].append(index) }
        }
        let types = tenant.typeByID
        var userByUPN: [String: String] = [:]
        for user in tenant.collections[.user] ?? [] {
            if let upn = user.properties["userPrincipalName"]?.stringValue, let id = user.id { userByUPN[upn.lowercased()] = id }
        }
        var added: [Int: [String: [JSONValue]]] = [:]
        var seen = Set<String>()
        for row in table.rows {
            func field(_ column: Int?) -> String {
                column.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? ""
            }
            let origin = ImportOrigin(file: table.file, line: row.line)
            // The group.
            var target: Int?
            if !field(groupIDColumn).isEmpty {
                target = groupIndex[field(groupIDColumn).lowercased()]
            } else if !field(groupNameColumn).isEmpty {
                let matches = groupsByName[field(groupNameColumn).lowercased()] ?? []
                if matches.count > 1 {
                    throw ImportError(
                        file: table.file, line: row.line, column: table.name(groupNameColumn!),
                        problem: "\(matches.count) groups are named \"\(field(groupNameColumn))\"",
                        hint: "add a GroupObjectId column so each row names one group")
                }
                target = matches.first
            } else {
                throw ImportError(
                    file: table.file, line: row.line, column: table.name((groupIDColumn ?? groupNameColumn)!), problem: "empty group")
            }
            let groupLabel = field(groupIDColumn).isEmpty ? field(groupNameColumn) : field(groupIDColumn)
            // The member.
            var memberID = field(memberIDColumn)
            if memberID.isEmpty, !field(memberUPNColumn).isEmpty { memberID = userByUPN[field(memberUPNColumn).lowercased()] ?? "" }
            guard let target else {
                tenant.lose(
                    ImportLoss(
                        type: .group, objectId: nil, displayName: groupLabel, property: defaultRelationship, file: table.file,
                        line: row.line, column: table.name((groupIDColumn ?? groupNameColumn)!), kind: "unresolved",
                        reason: "the group \(groupLabel) is not in the groups export; row not imported"))
                continue
            }
            guard !memberID.isEmpty else {
                if field(memberIDColumn).isEmpty && field(memberUPNColumn).isEmpty {
                    throw ImportError(
                        file: table.file, line: row.line, column: table.name((memberIDColumn ?? memberUPNColumn)!), problem: "empty member")
                }
                tenant.lose(
                    .group, groups[target].properties, property: defaultRelationship, origin: origin,
                    column: memberUPNColumn.map(table.name), kind: "unresolved",
                    "the member \(field(memberUPNColumn)) has no id and is not a user in the export; not imported")
                continue
            }
            var relationship = defaultRelationship
            let declared = field(relationshipColumn).lowercased()
            if declared == "owner" || declared == "owners" { relationship = "owners" }
            if declared == "member" || declared == "members" { relationship = "members" }
            guard seen.insert("\(target)|\(relationship)|\(memberID.lowercased())").inserted else { continue }
            var reference: JSONObject = ["id": .string(memberID)]
            if let odata = Self.odataType(field(typeColumn)) ?? types[memberID].flatMap(ImportedTenant.odataType) {
                reference["@odata.type"] = .string(odata)
            }
            added[target, default: [:]][relationship, default: []].append(.object(reference))
        }
        for (index, relationships) in added {
            for (relationship, references) in relationships {
                let existing = groups[index].properties[relationship]?.arrayValue ?? []
                groups[index].properties[relationship] = .array(existing + references)
            }
        }
        // Groups the file does not mention have no members or owners of that kind: say so explicitly, as a capture would.
        for index in groups.indices where groups[index].properties[defaultRelationship] == nil {
            groups[index].properties[defaultRelationship] = []
        }
        tenant.collections[.group] = groups
    }

    /// `User`, `Group`, `ServicePrincipal`, `Device`, `Contact` (AzureAD/MSOnline) or `#microsoft.graph.user`.
    static func odataType(_ text: String) -> String? {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value.hasPrefix("#microsoft.graph.") { return value }
        switch value.lowercased() {
        case "user": return "#microsoft.graph.user"
        case "group": return "#microsoft.graph.group"
        case "serviceprincipal": return "#microsoft.graph.servicePrincipal"
        case "device": return "#microsoft.graph.device"
        case "contact", "orgcontact": return "#microsoft.graph.orgContact"
        default: return nil
        }
    }

    // MARK: Directory roles

    /// `directory-roles.csv`: `Get-AzureADDirectoryRole` (ObjectId + RoleTemplateId), `Get-MsolRole` (ObjectId is the
    /// template id) or `Get-MgRoleManagementDirectoryRoleDefinition` (Id, TemplateId, IsBuiltIn). Returns role object id → template id.
    private mutating func readRoles(_ url: URL) throws(ImportError) -> [String: String] {
        let table = try input.csv(url)
        guard let idColumn = table.column(["ObjectId", "Id"]) else {
            throw ImportError(
                file: table.file, line: table.headerLine, column: "ObjectId", problem: "no column for the role's id",
                hint: "expected ObjectId (AzureAD, MSOnline) or Id (Microsoft.Graph)")
        }
        let nameColumn = table.column(["DisplayName", "Name"])
        let templateColumn = table.column(["RoleTemplateId", "TemplateId"])
        let builtInColumn = table.column(["IsBuiltIn"])
        let descriptionColumn = table.column(["Description"])
        let enabledColumn = table.column(["IsEnabled"])
        let permissionsColumn = table.column(["RolePermissions"])
        tenant.declare(.roleDefinition)
        var map: [String: String] = [:]
        var seen = Set<String>()
        for row in table.rows {
            func field(_ column: Int?) -> String { column.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            let objectID = field(idColumn)
            guard !objectID.isEmpty else {
                throw ImportError(file: table.file, line: row.line, column: table.name(idColumn), problem: "empty role id")
            }
            let template = field(templateColumn).isEmpty ? objectID : field(templateColumn)
            let isBuiltIn: Bool
            if builtInColumn != nil {
                guard let value = Self.bool(field(builtInColumn)) else {
                    throw ImportError(
                        file: table.file, line: row.line, column: table.name(builtInColumn!),
                        problem: "\"\(field(builtInColumn))\" is not True or False")
                }
                isBuiltIn = value
            } else {
                isBuiltIn = true  // directoryRoles are activated built-in roles
            }
            map[objectID.lowercased()] = template
            let definitionID = isBuiltIn ? template : objectID
            guard seen.insert(definitionID.lowercased()).inserted else { continue }
            var origin = ImportOrigin(file: table.file, line: row.line, columns: ["id": table.name(idColumn)])
            if let nameColumn { origin.columns["displayName"] = table.name(nameColumn) }
            var definition: JSONObject = [
                "id": .string(definitionID), "templateId": .string(template), "isBuiltIn": .bool(isBuiltIn),
                "isEnabled": .bool(Self.bool(field(enabledColumn)) ?? true), "rolePermissions": [],
            ]
            if !field(nameColumn).isEmpty { definition["displayName"] = .string(field(nameColumn)) }
            if !field(descriptionColumn).isEmpty { definition["description"] = .string(field(descriptionColumn)) }
            tenant.add(.roleDefinition, definition, origin: origin)
            if !isBuiltIn {
                tenant.lose(
                    .roleDefinition, definition, property: "rolePermissions", origin: origin, column: permissionsColumn.map(table.name),
                    kind: "flattened", "a custom role's permissions do not survive Export-Csv; it cannot be recreated as it was")
            }
        }
        return map
    }

    /// `role-members.csv`: one row per (role, member), or `Get-MgRoleManagementDirectoryRoleAssignment` rows.
    private mutating func readRoleMembers(_ url: URL, roleObjectToTemplate: [String: String]) throws(ImportError) {
        let table = try input.csv(url)
        let roleColumn = table.column(["RoleDefinitionId", "RoleTemplateId", "RoleObjectId", "RoleId", "DirectoryRoleId"])
        let roleNameColumn = table.column(["RoleDisplayName", "RoleName", "Role"])
        let memberColumn = table.column(["PrincipalId", "MemberObjectId", "MemberId", "ObjectId"])
        let upnColumn = table.column(["MemberUserPrincipalName", "PrincipalUserPrincipalName", "UserPrincipalName", "EmailAddress"])
        let scopeColumn = table.column(["DirectoryScopeId"])
        let assignmentIDColumn = table.column(["Id"])
        guard roleColumn != nil || roleNameColumn != nil else {
            throw ImportError(
                file: table.file, line: table.headerLine, column: "RoleObjectId", problem: "no column names the role",
                hint: "add RoleObjectId (or RoleTemplateId, RoleDefinitionId, RoleName)")
        }
        guard memberColumn != nil || upnColumn != nil else {
            throw ImportError(
                file: table.file, line: table.headerLine, column: "MemberObjectId", problem: "no column names the member",
                hint: "add MemberObjectId (or PrincipalId, or MemberUserPrincipalName)")
        }
        tenant.declare(.roleAssignment)
        let definitions = tenant.collections[.roleDefinition] ?? []
        var templateByName: [String: String] = [:]
        var knownDefinitions = Set<String>()
        for definition in definitions {
            if let id = definition.id { knownDefinitions.insert(id.lowercased()) }
            if let name = definition.properties["displayName"]?.stringValue, let id = definition.id {
                templateByName[name.lowercased()] = id
            }
        }
        var userByUPN: [String: String] = [:]
        for user in tenant.collections[.user] ?? [] {
            if let upn = user.properties["userPrincipalName"]?.stringValue, let id = user.id { userByUPN[upn.lowercased()] = id }
        }
        var seen = Set<String>()
        for row in table.rows {
            func field(_ column: Int?) -> String { column.map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            let origin = ImportOrigin(
                file: table.file, line: row.line,
                columns: [
                    "roleDefinitionId": table.name((roleColumn ?? roleNameColumn)!),
                    "principalId": table.name((memberColumn ?? upnColumn)!),
                ])
            let roleValue = field(roleColumn)
            var role: String?
            if !roleValue.isEmpty {
                role =
                    roleObjectToTemplate[roleValue.lowercased()]
                    ?? (knownDefinitions.contains(roleValue.lowercased()) || definitions.isEmpty ? roleValue : nil)
            } else if !field(roleNameColumn).isEmpty {
                role = templateByName[field(roleNameColumn).lowercased()]
            } else {
                throw ImportError(
                    file: table.file, line: row.line, column: table.name((roleColumn ?? roleNameColumn)!), problem: "empty role")
            }
            var principal = field(memberColumn)
            if principal.isEmpty { principal = userByUPN[field(upnColumn).lowercased()] ?? "" }
            let label = roleValue.isEmpty ? field(roleNameColumn) : roleValue
            guard let role else {
                tenant.lose(
                    ImportLoss(
                        type: .roleAssignment, displayName: label, property: "roleDefinitionId", file: table.file, line: row.line,
                        column: origin.columns["roleDefinitionId"], kind: "unresolved",
                        reason:
                            "the role \(label) is not in the directory roles export; add directory-roles.csv to map it to its template id"))
                continue
            }
            guard !principal.isEmpty else {
                if field(memberColumn).isEmpty && field(upnColumn).isEmpty {
                    throw ImportError(file: table.file, line: row.line, column: origin.columns["principalId"], problem: "empty member")
                }
                tenant.lose(
                    ImportLoss(
                        type: .roleAssignment, displayName: field(upnColumn), property: "principalId", file: table.file,
                        line: row.line, column: upnColumn.map(table.name), kind: "unresolved",
                        reason: "the member \(field(upnColumn)) has no id and is not a user in the export; not imported"))
                continue
            }
            let scope = field(scopeColumn).isEmpty ? "/" : field(scopeColumn)
            guard seen.insert("\(role.lowercased())|\(principal.lowercased())|\(scope)").inserted else { continue }
            let hasOwnID = !field(assignmentIDColumn).isEmpty && scopeColumn != nil
            let assignment: JSONObject = [
                "id": .string(
                    hasOwnID
                        ? field(assignmentIDColumn)
                        : "import-\(role)-\(principal)" + (scope == "/" ? "" : "-\(scope.split(separator: "/").last ?? "")")),
                "roleDefinitionId": .string(role), "principalId": .string(principal), "directoryScopeId": .string(scope),
            ]
            tenant.add(.roleAssignment, assignment, origin: origin)
            if scopeColumn == nil {
                tenant.lose(
                    .roleAssignment, assignment, property: "directoryScopeId", origin: origin, kind: "inferred",
                    "role membership export: tenant-wide scope assumed (administrative-unit scopes are not in it), id made up by the import"
                )
            }
        }
    }

    // MARK: Domains and organization

    private mutating func readDomains(_ url: URL) throws(ImportError) {
        let table = try input.csv(url)
        let rules = PowerShellColumns.domain
        try require(table, rules, ["id"])
        tenant.declare(.domain)
        let statusColumn = table.column(["Status"])  // MSOnline: Verified / Unverified
        for row in table.rows {
            var (properties, origin) = try convert(row, table, .domain, rules)
            if properties["isVerified"] == nil, let statusColumn {
                properties["isVerified"] = .bool(
                    row.fields[statusColumn].trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("Verified") == .orderedSame)
                origin.columns["isVerified"] = table.name(statusColumn)
            }
            tenant.add(.domain, properties, origin: origin)
        }
        reportUnmapped(table, .domain, rules, alsoRead: statusColumn.map { [table.name($0)] } ?? [])
    }

    private mutating func readOrganization(_ url: URL) throws(ImportError) {
        let table = try input.csv(url)
        let rules = PowerShellColumns.organization
        try require(table, rules, ["id"])
        guard let row = table.rows.first else {
            throw ImportError(file: table.file, line: table.headerLine + 1, problem: "no organization row")
        }
        let (properties, origin) = try convert(row, table, .organization, rules)
        tenant.declare(.organization)
        tenant.add(.organization, properties, origin: origin)
        tenant.sourceTenantId = properties["id"]?.stringValue
        if let initial = table.column(["InitialDomain"]) {
            let value = row.fields[initial].trimmingCharacters(in: .whitespaces).lowercased()
            if !value.isEmpty { tenant.sourceInitialDomain = value }
        }
    }

    // MARK: Conditional Access (ConvertTo-Json)

    private mutating func readPolicies(_ url: URL) throws(ImportError) {
        let file = input.relative(url)
        let policies = try PowerShellJSON.objects(input.json(url), file: file)
        tenant.declare(.conditionalAccessPolicy)
        for (index, var policy) in policies.enumerated() {
            let origin = ImportOrigin(
                file: file,
                columns: [
                    "id": "[\(index)].id", "displayName": "[\(index)].displayName",
                    "state": "[\(index)].state", "conditions": "[\(index)].conditions",
                ])
            guard policy["id"]?.stringValue?.isEmpty == false else {
                throw ImportError(file: file, column: "[\(index)].Id", problem: "a policy without an id")
            }
            let truncated = PowerShellJSON.truncatedFields(.object(policy))
            let essential = truncated.filter {
                $0 == "conditions" || $0.hasPrefix("conditions.users") || $0.hasPrefix("conditions.applications")
            }
            if !essential.isEmpty || policy["conditions"]?.objectValue == nil {
                tenant.lose(
                    .conditionalAccessPolicy, policy, property: nil, origin: origin,
                    column: "[\(index)].\(essential.first ?? "conditions")",
                    kind: "skipped",
                    "not imported: \(essential.isEmpty ? "no conditions" : essential.joined(separator: ", ") + " written as a type name") — export again with ConvertTo-Json -Depth 10"
                )
                continue
            }
            for path in truncated {
                PowerShellJSON.remove(path, from: &policy)
                tenant.lose(
                    .conditionalAccessPolicy, policy, property: path, origin: origin, column: "[\(index)].\(path)", kind: "truncated",
                    "ConvertTo-Json wrote a type name (depth too small); left out — export again with -Depth 10")
            }
            tenant.add(.conditionalAccessPolicy, policy, origin: origin)
        }
    }

    private mutating func readNamedLocations(_ url: URL) throws(ImportError) {
        let file = input.relative(url)
        let locations = try PowerShellJSON.objects(input.json(url), file: file)
        tenant.declare(.namedLocation)
        for (index, var location) in locations.enumerated() {
            let origin = ImportOrigin(
                file: file,
                columns: [
                    "id": "[\(index)].id", "displayName": "[\(index)].displayName",
                    "@odata.type": "[\(index)].@odata.type",
                ])
            if location["@odata.type"] == nil {
                if location["ipRanges"] != nil {
                    location["@odata.type"] = "#microsoft.graph.ipNamedLocation"
                } else if location["countriesAndRegions"] != nil {
                    location["@odata.type"] = "#microsoft.graph.countryNamedLocation"
                }
            }
            if var ranges = location["ipRanges"]?.arrayValue {
                for i in ranges.indices {
                    guard var range = ranges[i].objectValue, range["@odata.type"] == nil, let cidr = range["cidrAddress"]?.stringValue
                    else { continue }
                    range["@odata.type"] = .string(cidr.contains(":") ? "#microsoft.graph.iPv6CidrRange" : "#microsoft.graph.iPv4CidrRange")
                    ranges[i] = .object(range)
                }
                location["ipRanges"] = .array(ranges)
            }
            for path in PowerShellJSON.truncatedFields(.object(location)) {
                PowerShellJSON.remove(path, from: &location)
                tenant.lose(
                    .namedLocation, location, property: path, origin: origin, column: "[\(index)].\(path)", kind: "truncated",
                    "ConvertTo-Json wrote a type name (depth too small); left out — export again with -Depth 10")
            }
            tenant.add(.namedLocation, location, origin: origin)
        }
    }

    // MARK: Whole-collection losses

    private mutating func recordCollectionLosses(_ files: [FileKind: URL]) {
        func lose(_ type: ObjectType, _ property: String?, _ kind: FileKind, _ reason: String) {
            tenant.lose(
                ImportLoss(
                    type: type, property: property, file: files[kind].map(input.relative) ?? "(\(kind.rawValue))",
                    kind: "not-exported", reason: reason))
        }
        if tenant.collections[.user]?.isEmpty == false,
            !(tenant.collections[.user] ?? []).contains(where: { $0.properties["manager"] != nil })
        {
            lose(.user, "manager", .users, "no manager column (ManagerId / ManagerUserPrincipalName); reporting chains cannot be restored")
        }
        if tenant.collections[.group]?.isEmpty == false {
            if files[.groupMembers] == nil { lose(.group, "members", .groupMembers, "no group-members.csv: groups come back empty") }
            if files[.groupOwners] == nil { lose(.group, "owners", .groupOwners, "no group-owners.csv: groups come back without owners") }
        }
        if tenant.collections[.application]?.isEmpty == false {
            lose(.application, "owners", .applications, "application owners are not in a CSV export")
        }
        if files[.roleMembers] == nil, files[.directoryRoles] != nil {
            lose(.roleAssignment, nil, .roleMembers, "no role-members.csv: directory role assignments cannot be restored")
        }
        for (kind, type) in [
            (FileKind.users, ObjectType.user), (.groups, .group), (.domains, .domain), (.applications, .application),
            (.servicePrincipals, .servicePrincipal), (.conditionalAccessPolicies, .conditionalAccessPolicy),
        ]
        where files[kind] == nil {
            lose(type, nil, kind, "no \(type.plural) export in the directory")
        }
        if files[.conditionalAccessPolicies] != nil, files[.namedLocations] == nil {
            lose(.namedLocation, nil, .namedLocations, "no named-locations.json: policies that use named locations lose those conditions")
        }
        lose(.appRoleAssignment, nil, .servicePrincipals, "app role assignments are not in these exports")
        lose(.oauth2PermissionGrant, nil, .servicePrincipals, "delegated permission grants (consents) are not in these exports")
    }
}

import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@testable import LifeboatImport

typealias IDs = ImportFixtures.IDs

/// Plans every shipped runbook against a snapshot, as `lifeboat plan` would.
func planShippedRunbooks(_ snapshot: Snapshot) throws -> Int {
    var stages = 0
    for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Runbooks").path)
    where name.hasSuffix(".yaml") {
        let runbook = try Runbook.load(
            contentsOf: Fixtures.runbook(name), catalog: StageCatalog.specs, fileParameters: Fixtures.contosoParameters,
            builtins: [
                "target.initialDomain": "contosodr.onmicrosoft.com", "target.tenantId": "t",
                "snapshot.initialDomain": snapshot.manifest.sourceInitialDomain ?? "",
                "snapshot.sourceTenantId": snapshot.manifest.sourceTenantId,
            ])
        stages += try Executor.prepare(runbook, snapshot: snapshot).count
    }
    return stages
}

@Suite struct EntraExporterImportTests {
    @Test func importsTheTreeAsASnapshotThatLoadsAndPlans() throws {
        let directory = try TemporaryDirectory("import-ee")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        let out = directory.url.appendingPathComponent("snap")
        let result = try SnapshotImport.run(format: .entraExporter, input: input, output: out, toolVersion: "test")

        let snapshot = try Snapshot.load(from: out)
        #expect(snapshot.manifest.sourceTenantId == ImportFixtures.tenantID)
        #expect(snapshot.manifest.sourceInitialDomain == "contoso.onmicrosoft.com")
        #expect(snapshot.manifest.files[ImportLossReport.fileName] != nil)
        #expect(snapshot.users.count == 7 && snapshot.groups.count == 4 && snapshot.domains.count == 2)
        #expect(snapshot.applications.count == 1 && snapshot.servicePrincipals.count == 2)
        // Read from both ends, kept once.
        #expect(snapshot.oauth2PermissionGrants.count == 1)
        #expect(snapshot.appRoleAssignments.map(\.id) == [IDs.appRoleAssignment])
        // RoleAssignments win over DirectoryRoles; the expanded principal is dropped.
        #expect(snapshot.roleAssignments.count == 3)
        #expect(snapshot.roleAssignments.allSatisfy { $0.properties["principal"] == nil })
        let finance = try #require(snapshot.groups.first { $0.id == IDs.finance })
        #expect(Set(finance.members.map(\.id)) == [IDs.alice, IDs.bob])
        // Bob's member file had no @odata.type: filled in from the users read.
        #expect(finance.members.allSatisfy { $0.typeName == "user" })
        #expect(finance.owners.map(\.id) == [IDs.alice])
        #expect(snapshot.administrativeUnits.first?.members.map(\.id) == [IDs.alice])
        #expect(snapshot.applications.first?.properties["owners"]?.arrayValue?.count == 1)
        #expect(snapshot.users.allSatisfy { $0.properties["@odata.context"] == nil })
        #expect(snapshot.conditionalAccessPolicies.count == 1 && snapshot.namedLocations.count == 1)

        let losses = result.lossReport.losses
        #expect(losses.contains { $0.type == .user && $0.property == "manager" && $0.isCollectionWide && $0.reason.contains("managers") })
        #expect(losses.contains { $0.type == .application && $0.property == "keyCredentials" && $0.objectId == IDs.application })
        let unresolved = try #require(losses.first { $0.type == .conditionalAccessPolicy && $0.kind == "unresolved" })
        #expect(unresolved.reason.contains("88888888-0000-4000-8000-00000000dead"))
        #expect(unresolved.file == "Identity/Conditional/AccessPolicies/\(IDs.policy)/\(IDs.policy).json")
        #expect(result.ignoredFiles == ["Policies"])

        #expect(try planShippedRunbooks(snapshot) > 20)
    }

    @Test func directoryRolesStandInForMissingRoleManagement() throws {
        let directory = try TemporaryDirectory("import-ee-roles")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        try FileManager.default.removeItem(at: input.appendingPathComponent("RoleManagement"))
        let result = try SnapshotImport.run(
            format: .entraExporter, input: input, output: directory.url.appendingPathComponent("snap"), toolVersion: "test")
        let snapshot = result.snapshot
        #expect(snapshot.roleDefinitions.map(\.id) == [IDs.globalAdmin])
        #expect(snapshot.roleDefinitions.first?.isBuiltIn == true)
        let assignment = try #require(snapshot.roleAssignments.first)
        #expect(snapshot.roleAssignments.count == 1)
        #expect(
            assignment.roleDefinitionId == IDs.globalAdmin && assignment.principalId == IDs.breakGlass1
                && assignment.directoryScopeId == "/")
        #expect(result.lossReport.losses.contains { $0.type == .roleAssignment && $0.kind == "inferred" && $0.objectId == assignment.id })
    }

    @Test func noMembersFolderIsALossAndBadJSONNamesTheFile() throws {
        let directory = try TemporaryDirectory("import-ee-bad")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        for group in [IDs.finance, IDs.m365Group, IDs.breakGlassGroup] {
            try FileManager.default.removeItem(at: input.appendingPathComponent("Groups/\(group)/Members"))
        }
        let result = try SnapshotImport.run(
            format: .entraExporter, input: input, output: directory.url.appendingPathComponent("snap"), toolVersion: "test")
        #expect(result.lossReport.losses.contains { $0.type == .group && $0.property == "members" && $0.kind == "not-exported" })

        let userFile = input.appendingPathComponent("Users/\(IDs.bob)/\(IDs.bob).json")
        try Data("{\n  \"id\": \"\(IDs.bob)\",\n  \"displayName\": \n}".utf8).write(to: userFile)
        let out = directory.url.appendingPathComponent("snap2")
        let error = try #require(throws: ImportError.self) {
            try SnapshotImport.run(format: .entraExporter, input: input, output: out, toolVersion: "test")
        }
        #expect(error.file == "Users/\(IDs.bob)/\(IDs.bob).json")
        #expect(error.line == 4)
        #expect(!FileManager.default.fileExists(atPath: out.path))

        // A user without a UPN is refused at its file, naming the field.
        try Data(#"{"id": "\#(IDs.bob)", "displayName": "Bob"}"#.utf8).write(to: userFile)
        let missing = try #require(throws: ImportError.self) {
            try SnapshotImport.run(format: .entraExporter, input: input, output: out, toolVersion: "test")
        }
        #expect(missing.file == "Users/\(IDs.bob)/\(IDs.bob).json" && missing.column == "userPrincipalName")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.path).filter { $0.contains("importing") }
        #expect(leftovers.isEmpty)
    }
}

@Suite struct PowerShellImportTests {
    func importFixture(_ directory: TemporaryDirectory, replacing: [String: String] = [:], omitting: Set<String> = []) throws
        -> ImportResult
    {
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input, replacing: replacing, omitting: omitting)
        return try SnapshotImport.run(
            format: .powershellCSV, input: input, output: directory.url.appendingPathComponent("snap"), toolVersion: "test")
    }

    @Test func mapsColumnsAndRecordsWhatTheFormatLost() throws {
        let directory = try TemporaryDirectory("import-ps")
        let result = try importFixture(directory)
        let snapshot = try Snapshot.load(from: directory.url.appendingPathComponent("snap"))
        #expect(snapshot.manifest.sourceTenantId == ImportFixtures.tenantID)
        #expect(snapshot.manifest.sourceInitialDomain == "contoso.onmicrosoft.com")
        #expect(snapshot.users.count == 7 && snapshot.groups.count == 4)

        let alice = try #require(snapshot.users.first { $0.id == IDs.alice })
        #expect(alice.displayName == "Wong, Alice")
        #expect(alice.properties["officeLocation"]?.stringValue == "Building 4, Floor 2")
        #expect(alice.properties["jobTitle"]?.stringValue == "Head of \"Finance\"\nOperations")
        #expect(alice.properties["proxyAddresses"]?.stringArray == ["SMTP:alice@contoso.com", "smtp:alice.wong@contoso.com"])
        #expect(alice.properties["mailNickname"]?.stringValue == "alice")
        #expect(alice.properties["otherMails"] == nil)
        #expect(alice.manager?.id == IDs.operatorUser)
        let bob = try #require(snapshot.users.first { $0.id == IDs.bob })
        #expect(bob.accountEnabled == false && bob.manager?.id == IDs.alice)
        let synced = try #require(snapshot.users.first { $0.id == IDs.syncedUser })
        #expect(synced.onPremisesSyncEnabled && synced.properties["onPremisesImmutableId"]?.stringValue == "c2FtCg==")
        #expect(synced.manager == nil)
        #expect(snapshot.users.first { $0.id == IDs.guest }?.isGuest == true)

        let finance = try #require(snapshot.groups.first { $0.id == IDs.finance })
        #expect(finance.properties["description"]?.stringValue == "Finance; all staff\nsecond line")
        #expect(Set(finance.members.map(\.id)) == [IDs.alice, IDs.bob])
        #expect(finance.groupTypes.isEmpty)
        #expect(snapshot.groups.first { $0.id == IDs.dynamicGroup }?.isDynamic == true)
        #expect(snapshot.groups.first { $0.id == IDs.m365Group }?.isUnified == true)
        let breakGlass = try #require(snapshot.groups.first { $0.id == IDs.breakGlassGroup })
        #expect(Set(breakGlass.members.map(\.id)) == [IDs.breakGlass1, IDs.breakGlass2])
        #expect(breakGlass.members.allSatisfy { $0.typeName == "user" })
        #expect(breakGlass.mailNickname == "SG-BreakGlass-Exclusion")

        #expect(
            snapshot.servicePrincipals.first { $0.id == IDs.graphServicePrincipal }?.properties["servicePrincipalNames"]?.stringArray
                == ["https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000"])
        #expect(snapshot.domains.map(\.id).sorted() == ["contoso.com", "contoso.onmicrosoft.com"])
        #expect(snapshot.domains.allSatisfy { $0.isVerified })
        #expect(snapshot.roleDefinitions.map(\.id) == [IDs.globalAdmin])
        #expect(Set(snapshot.roleAssignments.map(\.principalId)) == [IDs.breakGlass1, IDs.breakGlass2, IDs.operatorUser])
        #expect(snapshot.roleAssignments.allSatisfy { $0.roleDefinitionId == IDs.globalAdmin })

        // Conditional Access: PascalCase → Graph names, AdditionalProperties merged, the truncated part dropped, the unusable policy skipped.
        #expect(Set(snapshot.conditionalAccessPolicies.map(\.id)) == [IDs.policy, IDs.truncatedPolicy])
        let policy = try #require(snapshot.conditionalAccessPolicies.first { $0.id == IDs.policy })
        #expect(policy.properties["conditions"]?["users"]?["excludeGroups"]?.stringArray == [IDs.breakGlassGroup])
        #expect(policy.properties["grantControls"]?["builtInControls"]?.stringArray == ["mfa"])
        #expect(policy.properties["@odata.context"]?.stringValue == "ignored")
        let truncated = try #require(snapshot.conditionalAccessPolicies.first { $0.id == IDs.truncatedPolicy })
        #expect(truncated.properties["grantControls"]?["authenticationStrength"] == nil)
        let location = try #require(snapshot.namedLocations.first)
        #expect(location.odataType == "#microsoft.graph.ipNamedLocation")
        #expect(location.properties["ipRanges"]?.arrayValue?.first?["@odata.type"]?.stringValue == "#microsoft.graph.iPv4CidrRange")

        let losses = result.lossReport.losses
        func has(_ type: ObjectType, _ property: String?, _ kind: String, id: String? = nil) -> Bool {
            losses.contains { $0.type == type && $0.property == property && $0.kind == kind && (id == nil || $0.objectId == id) }
        }
        #expect(has(.user, "otherMails", "flattened", id: IDs.alice))
        #expect(has(.user, "assignedLicenses", "flattened", id: IDs.alice))
        #expect(has(.user, "manager", "unresolved", id: IDs.syncedUser))
        #expect(has(.group, "groupTypes", "inferred", id: IDs.m365Group))
        #expect(has(.group, "mailNickname", "inferred", id: IDs.breakGlassGroup))
        #expect(has(.group, "members", "unresolved"))
        #expect(has(.group, "owners", "not-exported"))
        #expect(has(.application, "appRoles", "flattened", id: IDs.application))
        #expect(has(.application, "identifierUris", "flattened", id: IDs.application))
        #expect(has(.roleAssignment, "directoryScopeId", "inferred"))
        #expect(has(.conditionalAccessPolicy, nil, "skipped", id: IDs.brokenPolicy))
        #expect(has(.conditionalAccessPolicy, "grantControls.authenticationStrength", "truncated", id: IDs.truncatedPolicy))
        #expect(has(.appRoleAssignment, nil, "not-exported"))
        #expect(losses.contains { $0.kind == "unmapped" && $0.column == "IsCompromised" } == false)  // empty column: nothing lost
        #expect(losses.contains { $0.kind == "unmapped" && $0.column == "AvailableToOtherTenants" })
        // Row-level losses carry the file and the row's first line.
        let otherMails = try #require(losses.first { $0.property == "otherMails" && $0.objectId == IDs.alice })
        #expect(otherMails.file == "AzureADUsers.csv" && otherMails.line == 6 && otherMails.column == "OtherMails")
        #expect(result.ignoredFiles == ["notes.txt"])
        // Grouped for the summary: one line per unmapped column; groupTypes explained once, as inferred.
        let grouped = result.lossReport.grouped
        #expect(
            grouped.filter { $0.type == .domain && $0.kind == "unmapped" }.compactMap(\.column) == ["Capabilities", "VerificationMethod"])
        #expect(!has(.group, "groupTypes", "flattened"))
        #expect(grouped.first { $0.type == .group && $0.property == "members" && $0.kind == "unresolved" }?.wholeCollection == false)

        #expect(try planShippedRunbooks(snapshot) > 20)
    }

    @Test func missingFilesAreLossesNotErrors() throws {
        let directory = try TemporaryDirectory("import-ps-missing")
        let result = try importFixture(directory, omitting: ["group-members.csv", "role-members.csv", "named-locations.json"])
        let losses = result.lossReport.losses
        #expect(losses.contains { $0.type == .group && $0.property == "members" && $0.kind == "not-exported" })
        #expect(losses.contains { $0.type == .roleAssignment && $0.objectId == nil && $0.kind == "not-exported" })
        #expect(losses.contains { $0.type == .namedLocation && $0.kind == "not-exported" })
        // The policy's excluded location is no longer in the import.
        #expect(losses.contains { $0.type == .conditionalAccessPolicy && $0.kind == "unresolved" && $0.reason.contains(IDs.namedLocation) })
        #expect(result.snapshot.groups.allSatisfy { $0.members.isEmpty })
    }

    @Test func withoutAnOrganizationTheTenantIdMustBeGiven() throws {
        let directory = try TemporaryDirectory("import-ps-tenant")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input, omitting: ["organization.csv"])
        let out = directory.url.appendingPathComponent("snap")
        let error = try #require(throws: ImportError.self) {
            try SnapshotImport.run(format: .powershellCSV, input: input, output: out, toolVersion: "test")
        }
        #expect(error.hint?.contains("--source-tenant-id") == true)
        let result = try SnapshotImport.run(
            format: .powershellCSV, input: input, output: out, sourceTenantId: "given-tenant", toolVersion: "test")
        #expect(result.snapshot.manifest.sourceTenantId == "given-tenant")
    }
}

/// A bad input and where its error must point.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    var file: String
    var content: String
    var line: Int?
    var column: String?
    var mentions: String
    var testDescription: String { name }

    static let userHeader = #""ObjectId","AccountEnabled","DisplayName","UserPrincipalName""#

    static let all: [BadInput] = [
        BadInput(
            name: "unterminated quote", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","True","Alice","alice@contoso.com"
                "\(IDs.bob)","True","Bob, the builder,bob@contoso.com
                """, line: 3, column: "field 3", mentions: "never closed"),
        BadInput(
            name: "text after a closing quote", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","True","Alice"x,"alice@contoso.com"
                """, line: 2, column: "field 3", mentions: "after a closing quote"),
        BadInput(
            name: "short row", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","True","Alice","alice@contoso.com"
                "\(IDs.bob)","True","Bob"
                """, line: 3, column: nil, mentions: "3 fields but the header has 4"),
        BadInput(
            name: "not a boolean", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","Maybe","Alice","alice@contoso.com"
                """, line: 2, column: "AccountEnabled", mentions: "not True or False"),
        BadInput(
            name: "no UPN column", file: "users.csv",
            content: """
                "ObjectId","DisplayName"
                "\(IDs.alice)","Alice"
                """, line: 1, column: "userPrincipalName", mentions: "no column for userPrincipalName"),
        BadInput(
            name: "empty UPN", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","True","Alice","alice@contoso.com"

                "\(IDs.bob)","True","Bob",""
                """, line: 4, column: "UserPrincipalName", mentions: "missing"),
        BadInput(
            name: "duplicate id", file: "users.csv",
            content: """
                \(userHeader)
                "\(IDs.alice)","True","Alice","alice@contoso.com"
                "\(IDs.alice)","True","Alice again","alice2@contoso.com"
                """, line: 3, column: "ObjectId", mentions: "also the id of the user at users.csv:2"),
        BadInput(
            name: "duplicate header", file: "users.csv",
            content: """
                "ObjectId","DisplayName","UserPrincipalName","Display Name"
                """, line: 1, column: "Display Name", mentions: "appears twice"),
        BadInput(
            name: "unknown MSOnline group type", file: "groups.csv",
            content: """
                "ObjectId","DisplayName","GroupType"
                "\(IDs.finance)","SG-Finance","Security"
                "\(IDs.m365Group)","Project Phoenix","Weird"
                """, line: 3, column: "GroupType", mentions: "is not Security, DistributionList or MailEnabledSecurity"),
        BadInput(
            name: "broken policy JSON", file: "conditional-access-policies.json",
            content: """
                [
                  {"Id": "x", "DisplayName": "p", "State": "enabled",
                   "Conditions": {"Users": {"IncludeUsers": ["All"]}
                ]
                """, line: 4, column: "column 1", mentions: "not valid JSON"),
        BadInput(
            name: "policy without id", file: "conditional-access-policies.json",
            content: """
                [{"DisplayName": "p", "State": "enabled", "Conditions": {"Users": {"IncludeUsers": ["All"]}, "Applications": {"IncludeApplications": ["All"]}}}]
                """, line: nil, column: "[0].Id", mentions: "without an id"),
        BadInput(
            name: "membership without a group column", file: "group-members.csv",
            content: """
                "MemberObjectId"
                "\(IDs.alice)"
                """, line: 1, column: "GroupObjectId", mentions: "no column names the group"),
    ]
}

@Suite struct ImportErrorTests {
    @Test(arguments: BadInput.all)
    func badInputNamesFileLineAndColumnAndWritesNothing(_ input: BadInput) throws {
        let directory = try TemporaryDirectory("import-bad")
        let source = directory.url.appendingPathComponent("export")
        // The fixture's own users file is replaced by the bad one (under the simple name).
        try ImportFixtures.writePowerShell(into: source, replacing: [:], omitting: input.file == "users.csv" ? ["AzureADUsers.csv"] : [])
        try ImportFixtures.File(input.file, input.content).data.write(to: source.appendingPathComponent(input.file))
        let out = directory.url.appendingPathComponent("snap")
        let error = try #require(throws: ImportError.self) {
            try SnapshotImport.run(format: .powershellCSV, input: source, output: out, toolVersion: "test")
        }
        #expect(error.file == input.file, "\(error)")
        #expect(error.line == input.line, "\(error)")
        #expect(error.column == input.column, "\(error)")
        #expect(error.description.contains(input.mentions), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.url.path) == ["export"])
    }

    @Test func refusesAnExistingNonEmptyOutput() throws {
        let directory = try TemporaryDirectory("import-out")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        let out = directory.url.appendingPathComponent("snap")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: out.appendingPathComponent("precious.txt"))
        let error = try #require(throws: ImportError.self) {
            try SnapshotImport.run(format: .powershellCSV, input: input, output: out, toolVersion: "test")
        }
        #expect(error.problem.contains("not empty"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["precious.txt"])
        // An empty directory is fine.
        try FileManager.default.removeItem(at: out.appendingPathComponent("precious.txt"))
        _ = try SnapshotImport.run(format: .powershellCSV, input: input, output: out, toolVersion: "test")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("manifest.json").path))
    }

    @Test func aTamperedLossListIsRefusedAndOldSnapshotsStillLoad() throws {
        let directory = try TemporaryDirectory("import-tamper")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        let out = directory.url.appendingPathComponent("snap")
        _ = try SnapshotImport.run(format: .powershellCSV, input: input, output: out, toolVersion: "test")
        let losses = out.appendingPathComponent(ImportLossReport.fileName)
        var data = try Data(contentsOf: losses)
        data[data.count / 2] ^= 0x01
        try data.write(to: losses)
        let error = try #require(throws: SnapshotError.self) { try Snapshot.load(from: out) }
        #expect(error.file == ImportLossReport.fileName && error.problem.contains("SHA-256"))
        try FileManager.default.removeItem(at: losses)
        #expect(throws: SnapshotError.self) { try Snapshot.load(from: out) }
        // The example (no loss list) loads as before.
        #expect(try Snapshot.load(from: Fixtures.contoso).users.count == 40)
    }
}

@Suite struct CSVTableTests {
    @Test func readsPowerShellQuirks() throws {
        let text =
            "#TYPE Selected.System.Management.Automation.PSCustomObject\r\n\"A\";\"B\";\"C\"\r\n\"1;2\";\"x\"\"y\";\"line\r\nbreak\"\r\n\r\n3;;\"\"\r\n"
        let table = try CSVTable(text: text, file: "t.csv")
        #expect(table.header == ["A", "B", "C"])
        #expect(table.headerLine == 2)
        #expect(table.rows.map(\.fields) == [["1;2", "x\"y", "line\nbreak"], ["3", "", ""]])
        #expect(table.rows.map(\.line) == [3, 6])
        #expect(table.column(["b"]) == 1)
    }

    @Test func decodesBOMsAndWindows1252() throws {
        let utf16 = Data([0xFF, 0xFE]) + "\"Name\"\n\"Zoë\"\n".data(using: .utf16LittleEndian)!
        let table = try CSVTable(text: TextDecoding.decode(utf16, file: "u.csv"), file: "u.csv")
        #expect(table.rows.first?.fields == ["Zoë"])
        let cp1252 = Data("\"Name\"\n\"Zo".utf8) + Data([0xEB]) + Data("\"\n".utf8)
        #expect(try CSVTable(text: TextDecoding.decode(cp1252, file: "w.csv"), file: "w.csv").rows.first?.fields == ["Zoë"])
    }

    @Test func typeNamesAreRecognised() {
        #expect(PowerShellJSON.isTypeName("System.Collections.Generic.List`1[System.String]"))
        #expect(PowerShellJSON.isTypeName("System.String[]"))
        #expect(PowerShellJSON.isTypeName("Microsoft.Graph.PowerShell.Models.MicrosoftGraphWebApplication"))
        #expect(PowerShellJSON.isTypeName("@{IsDefault=True; MethodType=PhoneAppOTP}"))
        #expect(!PowerShellJSON.isTypeName("https://graph.microsoft.com"))
        #expect(!PowerShellJSON.isTypeName("(user.department -eq \"Sales\")"))
        #expect(!PowerShellJSON.isTypeName("contoso:ENTERPRISEPACK"))
        #expect(PowerShellJSON.graphName("IPRanges") == "ipRanges")
        #expect(PowerShellJSON.graphName("IncludeUsers") == "includeUsers")
        #expect(PowerShellJSON.graphName("Id") == "id")
        #expect(PowerShellJSON.graphName("@odata.type") == "@odata.type")
    }
}

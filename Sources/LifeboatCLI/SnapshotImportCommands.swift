import ArgumentParser
import Foundation
import LifeboatImport
import LifeboatJSON
import LifeboatSnapshot

extension SnapshotCommand {
    /// `lifeboat snapshot import`: an EntraExporter tree or PowerShell CSV exports → a Lifeboat snapshot.
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn an existing backup (EntraExporter, PowerShell CSV) into a Lifeboat snapshot.",
            discussion: """
                --from entra-exporter DIR
                  The folder given to `Export-Entra -Path DIR -All` (EntraExporter).
                  Read: Organization, Domains, Users, Groups (with Members, Owners),
                  AdministrativeUnits (with Members), Applications and
                  ServicePrincipals (with Owners, AppRoleAssignments,
                  AppRoleAssignedTo, Oauth2PermissionGrants),
                  RoleManagement/Directory/RoleDefinitions and RoleAssignments
                  (or DirectoryRoles with Members), and
                  Identity/Conditional/AccessPolicies and NamedLocations.
                  Other folders are listed as not imported.

                --from powershell-csv DIR
                  Export-Csv files of the AzureAD, MSOnline or Microsoft.Graph
                  modules, and ConvertTo-Json of Conditional Access. File names
                  (case, dashes, a module prefix such as Get-, AzureAD, Msol or Mg,
                  and a trailing date do not matter):
                \(PowerShellImportHelp.files)
                  Columns map to Graph names (ObjectId → id, MailNickName →
                  mailNickname, BlockCredential → not accountEnabled, …). Join
                  multi-valued cells with `;`: a cell holding a .NET type name
                  (System.Collections.Generic.List`1[System.String]) is a loss.
                  group-members.csv needs a group column (GroupObjectId, GroupId
                  or GroupDisplayName) and a member column (MemberObjectId,
                  ObjectId or MemberUserPrincipalName); role-members.csv a role
                  column (RoleObjectId, RoleTemplateId or RoleName) and a member
                  column. Export policies with ConvertTo-Json -Depth 10.

                The snapshot is written next to --out and renamed when complete;
                an existing non-empty --out is refused, and bad input (reported
                with file, line and column) writes nothing. What the format lost
                is listed per object in the snapshot's importLosses.json (hashed
                in the manifest) and summarised at the end.
                """)

        @Option(help: "The export format: entra-exporter or powershell-csv.")
        var from: String

        @Argument(help: "The export directory.")
        var directory: String

        @Option(help: "The snapshot directory to create (must not exist, or be empty).")
        var out: String

        @Option(help: "The source tenant id, when the export has no organization (or to override it).")
        var sourceTenantId: String?

        @Option(help: "When the export was made, ISO 8601 (default: the newest input file's modification time).")
        var capturedAt: String?

        func run() async throws {
            guard let format = ImportFormat(rawValue: from) else {
                throw ValidationError("--from must be one of: \(ImportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var captured: Date?
            if let capturedAt {
                guard let date = ISO8601DateFormatter().date(from: capturedAt) else {
                    throw ValidationError("--captured-at must be an ISO 8601 time such as 2025-03-01T02:00:00Z")
                }
                captured = date
            }
            let result: ImportResult
            do {
                result = try SnapshotImport.run(
                    format: format, input: URL(fileURLWithPath: directory), output: URL(fileURLWithPath: out),
                    sourceTenantId: sourceTenantId, capturedAt: captured, toolVersion: LifeboatVersion.current)
            } catch {
                printError("lifeboat: import failed, nothing was written: \(error)")
                throw ExitStatus.invalidInput
            }
            let snapshot = result.snapshot
            print("Imported \(format.rawValue) export \(directory) → \(out)")
            print(
                "Source tenant \(snapshot.manifest.sourceTenantId)" + (snapshot.manifest.sourceInitialDomain.map { " (\($0))" } ?? "")
                    + ", captured \(snapshot.manifest.capturedAt)")
            print("")
            for type in ObjectType.allCases where snapshot.manifest.files[type.fileName] != nil {
                print("  \(String(snapshot.counts[type] ?? 0).leftPadded(6))  \(type.plural)")
            }
            if !result.ignoredFiles.isEmpty {
                print("\nNot imported (nothing Lifeboat restores): \(result.ignoredFiles.joined(separator: ", "))")
            }
            let report = result.lossReport
            if report.losses.isEmpty {
                print("\nThe format lost nothing Lifeboat could tell.")
            } else {
                print("\nWhat the format lost (\(report.losses.count) entries; every one is in \(out)/\(ImportLossReport.fileName)):")
                SnapshotText.printLosses(report)
            }
            print("\nNext: lifeboat snapshot summary \(out)")
        }
    }

    /// `lifeboat snapshot summary`: counts and restorability warnings.
    struct Summary: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a snapshot's object counts, what cannot be restored as it was, and its age against the 30-day recycle bin.")

        @Argument(help: "The snapshot directory.")
        var directory: String

        @Option(help: "text or json.")
        var format: String = "text"

        func run() async throws {
            guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json") }
            let snapshot = try RunSession.loadSnapshot(directory)
            let summary: SnapshotSummary
            do {
                summary = try SnapshotSummary.analyse(snapshot)
            } catch {
                printError("lifeboat: the snapshot was refused: \(error)")
                throw ExitStatus.invalidInput
            }
            if format == "json" {
                print(String(decoding: try JSONCoding.encodePretty(summary.json), as: UTF8.self))
                return
            }
            print("Snapshot \(summary.directory)")
            print("  source tenant \(summary.sourceTenantId)" + (summary.sourceInitialDomain.map { " (\($0))" } ?? ""))
            print(
                "  captured \(summary.capturedAt)" + (summary.ageDays.map { ", \($0) days ago" } ?? "")
                    + (summary.toolVersion.map { " by \($0)" } ?? ""))
            print("")
            for (type, count) in summary.counts { print("  \(String(count).leftPadded(6))  \(type.plural)") }
            print("\nRestorability:")
            for warning in summary.warnings {
                print("  [\(warning.severity)] \(warning.message)")
                print("      → \(warning.action)")
            }
            if let losses = summary.importLosses, !losses.losses.isEmpty {
                print("\nImport losses (\(losses.importedFrom), imported \(losses.importedAt)):")
                SnapshotText.printLosses(losses)
            }
        }
    }
}

/// Text shared by `snapshot import` and `snapshot summary`.
enum SnapshotText {
    static func printLosses(_ report: ImportLossReport) {
        for group in report.grouped {
            let subject = group.type.rawValue + (group.property.map { ".\($0)" } ?? group.column.map { " column \($0)" } ?? "")
            let scope = group.wholeCollection ? "all \(group.type.plural)" : "\(group.objects) \(group.objects == 1 ? "object" : "objects")"
            print("  \(subject) [\(group.kind)] \(scope): \(group.example)")
        }
    }
}

/// The powershell-csv file names, for help text.
enum PowerShellImportHelp {
    static let files = """
            users.csv, groups.csv, group-members.csv, group-owners.csv,
            applications.csv, service-principals.csv, directory-roles.csv,
            role-members.csv, domains.csv, organization.csv,
            conditional-access-policies.json, named-locations.json
        """
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

import Foundation
import LifeboatJSON
import LifeboatSnapshot

/// The export formats `lifeboat snapshot import` reads.
package enum ImportFormat: String, CaseIterable, Sendable {
    /// The directory tree Microsoft's EntraExporter module writes (`Export-Entra -Path DIR -All`).
    case entraExporter = "entra-exporter"
    /// `Export-Csv` files of the AzureAD, MSOnline or Microsoft.Graph PowerShell modules, and
    /// `ConvertTo-Json` of Conditional Access policies.
    case powershellCSV = "powershell-csv"
}

/// What an import produced.
package struct ImportResult: Sendable {
    /// The snapshot as `Snapshot.load` reads it from its final place.
    package var snapshot: Snapshot
    package var lossReport: ImportLossReport
    /// Input files that hold nothing Lifeboat restores (other object types), relative to the input directory.
    package var ignoredFiles: [String]
}

/// Turns an export directory into a Lifeboat snapshot directory.
package enum SnapshotImport {
    /// Reads `input` in `format`, and writes a snapshot to `output` atomically: into a temporary directory
    /// next to it, then renamed. Nothing is written when the input has a problem.
    ///
    /// - Parameters:
    ///   - sourceTenantId: overrides (or supplies, when the export has no organization) the source tenant id.
    ///   - capturedAt: overrides the export time (default: from the export, else the newest input file).
    package static func run(
        format: ImportFormat, input: URL, output: URL, sourceTenantId: String? = nil, capturedAt: Date? = nil,
        toolVersion: String, now: Date = Date()
    ) throws(ImportError) -> ImportResult {
        try checkOutput(output)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ImportError(file: input.path, problem: "is not a directory", hint: "pass the folder the export was written to")
        }
        try ImportInput(root: input).checkTree()
        var tenant: ImportedTenant
        switch format {
        case .entraExporter:
            var importer = EntraExporterImporter(root: input)
            tenant = try importer.read()
        case .powershellCSV:
            var importer = PowerShellImporter(root: input)
            tenant = try importer.read()
        }
        if let sourceTenantId { tenant.sourceTenantId = sourceTenantId }
        guard let tenantID = tenant.sourceTenantId, !tenantID.isEmpty else {
            throw ImportError(
                file: input.path, problem: "the export does not say which tenant it came from",
                hint: format == .entraExporter
                    ? "include Organization/Organization.json, or pass --source-tenant-id"
                    : "add organization.csv (Get-MgOrganization / Get-AzureADTenantDetail | Export-Csv), or pass --source-tenant-id")
        }
        try validate(tenant)
        let losses = tenant.losses.sorted {
            ($0.type, $0.file, $0.line ?? 0, $0.property ?? "") < ($1.type, $1.file, $1.line ?? 0, $1.property ?? "")
        }
        let report = ImportLossReport(importedFrom: format.rawValue, importedAt: ISO8601DateFormatter().string(from: now), losses: losses)
        let snapshot = try write(
            tenant, tenantID: tenantID, report: report, to: output,
            capturedAt: capturedAt ?? tenant.exportedAt ?? now, toolVersion: toolVersion)
        return ImportResult(snapshot: snapshot, lossReport: report, ignoredFiles: tenant.ignoredFiles.sorted())
    }

    /// Refuses an existing file or non-empty directory: an import never overwrites.
    static func checkOutput(_ output: URL) throws(ImportError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw ImportError(file: output.path, problem: "already exists and is a file", hint: "choose a new --out directory")
        }
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        if !contents.isEmpty {
            throw ImportError(
                file: output.path, problem: "already exists and is not empty",
                hint: "an import never overwrites a snapshot; choose a new --out directory")
        }
    }

    /// Checks every object as `Snapshot.load` will, reporting problems at their source.
    static func validate(_ tenant: ImportedTenant) throws(ImportError) {
        var seen: [String: (ObjectType, ImportOrigin)] = [:]
        for type in ObjectType.allCases {
            for object in tenant.collections[type] ?? [] {
                do {
                    try check(type, object.properties)
                } catch {
                    let column = object.origin.columns[error.field] ?? error.field
                    throw ImportError(
                        file: object.origin.file, line: object.origin.line, column: column,
                        problem: "\(error.problem) (required for a \(type.rawValue))")
                }
                guard type != .organization, let id = object.id else { continue }
                if let other = seen[id] {
                    let place = other.1.file + (other.1.line.map { ":\($0)" } ?? "")
                    throw ImportError(
                        file: object.origin.file, line: object.origin.line, column: object.origin.columns["id"] ?? "id",
                        problem: "id \(id) is also the id of the \(other.0.rawValue) at \(place)",
                        hint: "every object id must be unique; remove the duplicate row or file")
                }
                seen[id] = (type, object.origin)
            }
        }
    }

    private static func check(_ type: ObjectType, _ properties: JSONObject) throws(PropertyProblem) {
        switch type {
        case .organization: _ = try Organization(properties: properties)
        case .domain: _ = try Domain(properties: properties)
        case .user: _ = try User(properties: properties)
        case .group: _ = try Group(properties: properties)
        case .administrativeUnit: _ = try AdministrativeUnit(properties: properties)
        case .application: _ = try Application(properties: properties)
        case .servicePrincipal: _ = try ServicePrincipal(properties: properties)
        case .appRoleAssignment: _ = try AppRoleAssignment(properties: properties)
        case .oauth2PermissionGrant: _ = try OAuth2PermissionGrant(properties: properties)
        case .roleDefinition: _ = try RoleDefinition(properties: properties)
        case .roleAssignment: _ = try RoleAssignment(properties: properties)
        case .namedLocation: _ = try NamedLocation(properties: properties)
        case .conditionalAccessPolicy: _ = try ConditionalAccessPolicy(properties: properties)
        }
    }

    private static func write(
        _ tenant: ImportedTenant, tenantID: String, report: ImportLossReport, to output: URL, capturedAt: Date, toolVersion: String
    ) throws(ImportError) -> Snapshot {
        let fileManager = FileManager.default
        let parent = output.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(output.lastPathComponent).importing-\(UUID().uuidString.prefix(8))")
        do {
            try fileManager.createDirectory(at: parent, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw ImportError(file: output.path, problem: "cannot create the snapshot directory (\(error.localizedDescription))")
        }
        do {
            for type in ObjectType.allCases {
                guard let objects = tenant.collections[type] else { continue }
                // One object per line (the compact writer, not Foundation's encoder: a 200,000-user import spent a
                // third of its time there), still readable and diffable line by line.
                var text = Data("{\"value\": [\n".utf8)
                for (index, object) in objects.enumerated() {
                    text.append(try JSONCoding.encode(JSONValue.object(object.properties)))
                    text.append(contentsOf: Array((index + 1 < objects.count ? ",\n" : "\n").utf8))
                }
                text.append(contentsOf: Array("]}\n".utf8))
                try text.write(to: temporary.appendingPathComponent(type.fileName))
            }
            try JSONCoding.encodePretty(report).write(to: temporary.appendingPathComponent(ImportLossReport.fileName))
            _ = try Snapshot.writeManifest(
                in: temporary, sourceTenantId: tenantID, sourceInitialDomain: tenant.sourceInitialDomain,
                capturedAt: capturedAt, toolVersion: "lifeboat \(toolVersion) (import \(report.importedFrom))")
            // The snapshot must load before it takes its final name.
            _ = try Snapshot.load(from: temporary)
            if fileManager.fileExists(atPath: output.path) { try fileManager.removeItem(at: output) }
            try fileManager.moveItem(at: temporary, to: output)
        } catch {
            try? fileManager.removeItem(at: temporary)
            if let snapshotError = error as? SnapshotError {
                throw ImportError(
                    file: snapshotError.file, column: snapshotError.field,
                    problem: "the imported snapshot does not load: \(snapshotError)")
            }
            throw ImportError(file: output.path, problem: "cannot write the snapshot (\(error.localizedDescription))")
        }
        do {
            return try Snapshot.load(from: output)
        } catch {
            throw ImportError(file: output.path, problem: "the imported snapshot does not load: \(error)")
        }
    }
}

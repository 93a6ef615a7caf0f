import Foundation
import LifeboatTestSupport
import Testing

@testable import LifeboatImport

/// No symbolic link leaves the export tree, and what cannot be read is named for what it is.
@Suite struct ImportContainmentTests {
    /// A host directory outside the export with a file the import must never read or name.
    func hostSecret(_ directory: TemporaryDirectory) throws -> URL {
        let host = directory.url.appendingPathComponent("host-only")
        try FileManager.default.createDirectory(at: host, withIntermediateDirectories: true)
        try Data("root:x:0:0:host secret\n".utf8).write(to: host.appendingPathComponent("passwd"))
        return host
    }

    func expectRefused(_ format: ImportFormat, _ input: URL, _ output: URL, file: String, mentioning: String, hidden: String?) {
        let error = #expect(throws: ImportError.self) {
            try SnapshotImport.run(format: format, input: input, output: output, toolVersion: "test")
        }
        #expect(error?.file == file, "\(String(describing: error))")
        #expect(error?.description.contains(mentioning) == true, "\(String(describing: error))")
        if let hidden { #expect(error?.description.contains(hidden) == false, "the error names a host path: \(String(describing: error))") }
        #expect(!FileManager.default.fileExists(atPath: output.path))
    }

    @Test func aFolderLinkOutOfAnEntraExporterTreeIsRefused() throws {
        let directory = try TemporaryDirectory("import-link-dir")
        let host = try hostSecret(directory)
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        try FileManager.default.removeItem(at: input.appendingPathComponent("Users"))
        try FileManager.default.createSymbolicLink(at: input.appendingPathComponent("Users"), withDestinationURL: host)
        expectRefused(
            .entraExporter, input, directory.url.appendingPathComponent("snap"), file: "Users", mentioning: "leads outside the export",
            hidden: host.path)
    }

    @Test func aLinkToTheRootIsRefusedWithoutReadingTheHost() throws {
        let directory = try TemporaryDirectory("import-link-root")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writeEntraExporter(into: input)
        try FileManager.default.createSymbolicLink(atPath: input.appendingPathComponent("Groups/everything").path, withDestinationPath: "/")
        expectRefused(
            .entraExporter, input, directory.url.appendingPathComponent("snap"), file: "Groups/everything",
            mentioning: "leads outside the export",
            hidden: "/etc")
    }

    @Test func aCSVFileLinkedOutOfTheExportIsRefused() throws {
        let directory = try TemporaryDirectory("import-link-csv")
        let host = try hostSecret(directory)
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        try FileManager.default.removeItem(at: input.appendingPathComponent("AzureADUsers.csv"))
        try FileManager.default.createSymbolicLink(
            at: input.appendingPathComponent("AzureADUsers.csv"), withDestinationURL: host.appendingPathComponent("passwd"))
        expectRefused(
            .powershellCSV, input, directory.url.appendingPathComponent("snap"), file: "AzureADUsers.csv",
            mentioning: "leads outside the export",
            hidden: "host secret")
    }

    @Test func aLinkInsideTheExportIsFollowed() throws {
        let directory = try TemporaryDirectory("import-link-inside")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        try FileManager.default.createDirectory(at: input.appendingPathComponent("originals"), withIntermediateDirectories: false)
        try FileManager.default.moveItem(
            at: input.appendingPathComponent("AzureADUsers.csv"), to: input.appendingPathComponent("originals/AzureADUsers.csv"))
        try FileManager.default.createSymbolicLink(
            atPath: input.appendingPathComponent("AzureADUsers.csv").path, withDestinationPath: "originals/AzureADUsers.csv")
        let result = try SnapshotImport.run(
            format: .powershellCSV, input: input, output: directory.url.appendingPathComponent("snap"), toolVersion: "test")
        #expect(result.snapshot.users.count > 0)
    }

    @Test func aFIFOOrADirectoryWhereAFileIsExpectedIsNamedForWhatItIs() throws {
        let directory = try TemporaryDirectory("import-fifo")
        let input = directory.url.appendingPathComponent("export")
        try ImportFixtures.writePowerShell(into: input)
        try FileManager.default.removeItem(at: input.appendingPathComponent("AzureADUsers.csv"))
        #expect(mkfifo(input.appendingPathComponent("AzureADUsers.csv").path, 0o600) == 0)
        expectRefused(
            .powershellCSV, input, directory.url.appendingPathComponent("snap"), file: "AzureADUsers.csv", mentioning: "is a FIFO",
            hidden: nil)
        try FileManager.default.removeItem(at: input.appendingPathComponent("AzureADUsers.csv"))
        try FileManager.default.createSymbolicLink(
            atPath: input.appendingPathComponent("AzureADUsers.csv").path, withDestinationPath: "/dev/zero")
        expectRefused(
            .powershellCSV, input, directory.url.appendingPathComponent("snap"), file: "AzureADUsers.csv",
            mentioning: "leads outside the export", hidden: nil)
    }
}

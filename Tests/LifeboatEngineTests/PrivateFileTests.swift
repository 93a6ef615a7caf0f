import Foundation
import LifeboatEngine
import LifeboatTestSupport
import Testing

@Suite struct PrivateFileTests {
    func mode(_ path: String) throws -> Int? { try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int }

    @Test func aNewSecretsFileIs0600AndAnExistingPrivateOneIsAppendedTo() async throws {
        let directory = try TemporaryDirectory("private")
        let path = directory.path("passes.csv")
        let file = SecretsFile(url: URL(fileURLWithPath: path))
        try await file.append(kind: "temporary-access-pass", subject: "=cmd|' /C calc'!A0", secret: "p,a\"ss\r\nx")
        #expect(try mode(path) == 0o600)
        try await SecretsFile(url: URL(fileURLWithPath: path)).append(kind: "password", subject: "b@contoso.com", secret: "s2")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "kind,subject,secret\ntemporary-access-pass,'=cmd|' /C calc'!A0,\"p,a\"\"ss\r\nx\"\npassword,b@contoso.com,s2\n")
    }

    /// A Temporary Access Pass may start with `=`, `+`, `-` or `@`: the file holds it exactly as issued (an apostrophe in
    /// front made the operator's pass wrong), while the subject is still defused.
    @Test func aSecretIsWrittenExactlyAsIssued() async throws {
        let directory = try TemporaryDirectory("private-exact")
        let path = directory.path("passes.csv")
        try await SecretsFile(url: URL(fileURLWithPath: path)).append(
            kind: "temporary-access-pass", subject: "@evil", secret: "=k9+Xw-2@PqR7tZa")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == "kind,subject,secret\ntemporary-access-pass,'@evil,=k9+Xw-2@PqR7tZa\n")
    }

    @Test func anythingButAPrivateRegularFileOfThisUserIsRefused() throws {
        let directory = try TemporaryDirectory("private-refused")
        let manager = FileManager.default
        // World-readable.
        _ = manager.createFile(atPath: directory.path("open.csv"), contents: Data("x\n".utf8), attributes: [.posixPermissions: 0o644])
        // A symbolic link to a file the attacker will read (and to a missing one: it must not be created).
        _ = manager.createFile(atPath: directory.path("target"), contents: nil, attributes: [.posixPermissions: 0o600])
        try manager.createSymbolicLink(atPath: directory.path("link.csv"), withDestinationPath: directory.path("target"))
        try manager.createSymbolicLink(atPath: directory.path("dangling.csv"), withDestinationPath: directory.path("created-by-link"))
        // A second name for the file.
        try manager.linkItem(atPath: directory.path("target"), toPath: directory.path("hardlink.csv"))
        try manager.createDirectory(atPath: directory.path("dir.csv"), withIntermediateDirectories: false)
        #expect(mkfifo(directory.path("fifo.csv"), 0o600) == 0)

        let cases = [
            ("open.csv", "mode is 644"), ("link.csv", "symbolic link"), ("dangling.csv", "symbolic link"),
            ("hardlink.csv", "hard links"), ("dir.csv", "directory"), ("fifo.csv", "FIFO"),
        ]
        for (name, problem) in cases {
            let error = try #require(throws: PrivateFileError.self, "\(name)") {
                _ = try PrivateFile.openForAppending(directory.path(name))
            }
            #expect(error.description.contains(problem), "\(name): \(error)")
            #expect(error.description.contains(directory.path(name)))
            #expect(throws: PrivateFileError.self, "\(name)") {
                try PrivateFile.replace(directory.path(name), contents: Data("secret".utf8))
            }
        }
        #expect(!manager.fileExists(atPath: directory.path("created-by-link")))
        #expect(try Data(contentsOf: URL(fileURLWithPath: directory.path("target"))).isEmpty)
        #expect(try String(contentsOfFile: directory.path("open.csv"), encoding: .utf8) == "x\n")
        #expect(throws: PrivateFileError.self) { try PrivateFile.create(directory.path("open.csv"), contents: Data()) }
    }

    @Test func replaceRewritesAPrivateFileAndCreatesAMissingOne() throws {
        let directory = try TemporaryDirectory("private-replace")
        let path = directory.path("client.secret")
        try PrivateFile.replace(path, contents: Data("first-and-longer\n".utf8))
        try PrivateFile.replace(path, contents: Data("second\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        #expect(try mode(path) == 0o600)
    }
}

@Suite struct CSVFieldTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a,b", "\"a,b\""),
        ("say \"hi\"", "\"say \"\"hi\"\"\""),
        ("line\r\nbreak", "\"line\r\nbreak\""),  // "\r\n" is one Character: found scalar by scalar
        ("cr\ronly", "\"cr\ronly\""),
        ("lf\nonly", "\"lf\nonly\""),
        ("=1+2", "'=1+2"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\r\n=1+2", "\"'\r\n=1+2\""),
    ])
    func quotesAndDefuses(_ value: String, _ written: String) {
        #expect(CSVField.quoted(value) == written)
    }

    @Test func aDisplayNameWithALineBreakStaysInItsRow() throws {
        let entry = IDMapEntry(
            objectType: .user, oldID: "1", newID: "2", naturalKey: nil, displayName: "Eve\r\n=1+2,evil", how: .created,
            stageID: "users")
        let text = String(decoding: try IDMapWriter.render([entry], format: .csv), as: UTF8.self)
        // Two records: the header and the row; the break is inside a quoted field.
        #expect(text.hasSuffix("\"Eve\r\n=1+2,evil\",created,,,users\n"), "\(text)")
    }
}

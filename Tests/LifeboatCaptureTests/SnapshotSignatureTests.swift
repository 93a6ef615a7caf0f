import Foundation
import LifeboatCapture
import LifeboatJSON
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// One way to tamper with a signed copy of the Contoso snapshot, and the file the refusal must name.
struct Tampering: Sendable, CustomTestStringConvertible {
    var name: String
    var blamedFile: String
    /// Checked with the signer's public key (`true`) or without any key.
    var withKey = true
    var apply: @Sendable (URL) throws -> Void

    var testDescription: String { name }

    static let all: [Tampering] = [
        Tampering(name: "one byte changed", blamedFile: "users.json") { snapshot in
            let url = snapshot.appendingPathComponent("users.json")
            var data = try Data(contentsOf: url)
            let index = try #require(data.firstIndex(of: UInt8(ascii: "A")))
            data[index] = UInt8(ascii: "B")
            try data.write(to: url)
        },
        Tampering(name: "one byte changed, unsigned check", blamedFile: "groups.json", withKey: false) { snapshot in
            let url = snapshot.appendingPathComponent("groups.json")
            var data = try Data(contentsOf: url)
            data[data.count / 2] ^= 0x01
            try data.write(to: url)
        },
        Tampering(name: "one file removed", blamedFile: "namedLocations.json") { snapshot in
            try FileManager.default.removeItem(at: snapshot.appendingPathComponent("namedLocations.json"))
        },
        Tampering(name: "a collection added", blamedFile: "evil.json", withKey: false) { snapshot in
            try Data("{\"value\": []}".utf8).write(to: snapshot.appendingPathComponent("evil.json"))
        },
        Tampering(name: "a file changed and the manifest re-sealed", blamedFile: "manifest.json") { snapshot in
            try Fixtures.rewrite("roleAssignments.json", in: snapshot) {
                Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "\"/\"", with: "\"/administrativeUnits/x\"").utf8)
            }
        },
        Tampering(name: "signed by another key", blamedFile: SnapshotSignature.fileName) { snapshot in
            try SnapshotSignature.sign(directory: snapshot, privateKey: SnapshotSignature.generateKey())
        },
        Tampering(name: "signature removed", blamedFile: SnapshotSignature.fileName) { snapshot in
            try FileManager.default.removeItem(at: snapshot.appendingPathComponent(SnapshotSignature.fileName))
        },
        Tampering(name: "signature garbled", blamedFile: SnapshotSignature.fileName) { snapshot in
            try Data("not a signature".utf8).write(to: snapshot.appendingPathComponent(SnapshotSignature.fileName))
        },
    ]
}

@Suite struct SnapshotSignatureTests {
    /// A signed copy of Contoso and the key that signed it.
    func signedContoso(_ directory: TemporaryDirectory) throws -> (URL, SnapshotSigningKey) {
        let snapshot = try Fixtures.copyContoso(into: directory)
        try FileManager.default.removeItem(at: snapshot.appendingPathComponent("README.md"))
        try FileManager.default.removeItem(at: snapshot.appendingPathComponent("parameters.yaml"))
        let key = SnapshotSignature.generateKey()
        try SnapshotSignature.sign(directory: snapshot, privateKey: key)
        return (snapshot, key)
    }

    @Test func aSignedSnapshotVerifiesAndStillLoads() throws {
        let directory = try TemporaryDirectory("sign")
        let (snapshot, key) = try signedContoso(directory)
        let report = try SnapshotVerification.verify(directory: snapshot, publicKey: key.publicKey)
        #expect(report.signedBy == SnapshotSignature.keyID(key.publicKey))
        #expect(report.counts[.user] == 40)
        #expect(report.ignoredFiles == [])
        // The signature file is not a collection: Snapshot.load does not refuse it.
        #expect(try Snapshot.load(from: snapshot).users.count == 40)
        // Without a key, a signed snapshot verifies too (the signature is noted, not checked).
        let unchecked = try SnapshotVerification.verify(directory: snapshot, publicKey: nil)
        #expect(unchecked.signedBy == nil && unchecked.hasSignature)
    }

    @Test func anUnsignedSnapshotLoadsAndVerifiesWithoutAKey() throws {
        // The example as shipped: unsigned, with a README and its runbook parameters (issue 13 item 8: the operator and
        // break-glass accounts are no runbook defaults any more), neither part of the snapshot.
        let report = try SnapshotVerification.verify(directory: Fixtures.contoso, publicKey: nil)
        #expect(!report.hasSignature)
        #expect(report.ignoredFiles == ["README.md", "parameters.yaml"])
        #expect(try Snapshot.load(from: Fixtures.contoso).groups.count == 14)
    }

    @Test(arguments: Tampering.all)
    func aTamperedSnapshotIsRefused(_ tampering: Tampering) throws {
        let directory = try TemporaryDirectory("tamper")
        let (snapshot, key) = try signedContoso(directory)
        try tampering.apply(snapshot)
        let error = #expect(throws: SnapshotVerificationError.self) {
            _ = try SnapshotVerification.verify(directory: snapshot, publicKey: tampering.withKey ? key.publicKey : nil)
        }
        #expect(error?.file == tampering.blamedFile, "\(String(describing: error))")
        #expect(error?.hint?.isEmpty == false)
    }

    /// The swap race: the snapshot is loaded from a tampered, re-sealed manifest, then the signed manifest is put back
    /// before the signature is checked. What is verified is the manifest that was used, so it is refused.
    @Test func swappingTheManifestBetweenLoadAndCheckCannotVerify() throws {
        let directory = try TemporaryDirectory("swap")
        let (snapshot, key) = try signedContoso(directory)
        let manifestURL = snapshot.appendingPathComponent(Snapshot.manifestFileName)
        let signed = try Data(contentsOf: manifestURL)
        try Fixtures.rewrite("users.json", in: snapshot) {
            Data(String(decoding: $0, as: UTF8.self).replacingOccurrences(of: "Amelia", with: "Mallory").utf8)
        }
        let loaded = try Snapshot.load(from: snapshot)
        #expect(loaded.users.contains { $0.displayName.contains("Mallory") })
        try signed.write(to: manifestURL)  // the swap
        // The file on disk is the signed one again: re-reading it would say "verified".
        #expect(throws: Never.self) { try SnapshotSignature.verify(directory: snapshot, publicKey: key.publicKey) }
        let error = #expect(throws: SnapshotVerificationError.self) { try SnapshotSignature.verify(loaded, publicKey: key.publicKey) }
        #expect(error?.file == Snapshot.manifestFileName)
        #expect(loaded.manifestSHA256 == Snapshot.sha256Hex(loaded.manifestData))
        #expect(loaded.manifestSHA256 != Snapshot.sha256Hex(signed))

        // Unswapped, the loaded bytes verify, and the custody statement names their hash.
        let other = try TemporaryDirectory("swap-intact")
        let (intactURL, intactKey) = try signedContoso(other)
        let intact = try Snapshot.load(from: intactURL)
        try SnapshotSignature.verify(intact, publicKey: intactKey.publicKey)
        let statement = SnapshotSignature.custodyStatement(
            directory: intactURL, verifiedKey: intactKey.publicKey, manifestSHA256: intact.manifestSHA256)
        #expect(statement.contains("SHA-256 \(intact.manifestSHA256)"))
    }

    @Test func keyFilesArePEMAndThePrivateOneIsPrivate() throws {
        let directory = try TemporaryDirectory("keys")
        let prefix = directory.path("backup-signing")
        let key = SnapshotSignature.generateKey()
        let files = try SnapshotSignature.writeKeyPair(prefix: prefix, key: key)
        let attributes = try FileManager.default.attributesOfItem(atPath: files.privateKey.path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try String(contentsOf: files.privateKey, encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try String(contentsOf: files.publicKey, encoding: .utf8).hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try SnapshotSignature.loadPrivateKey(path: files.privateKey.path).rawRepresentation == key.rawRepresentation)
        #expect(try SnapshotSignature.loadPublicKey(path: files.publicKey.path).rawRepresentation == key.publicKey.rawRepresentation)
        // Never overwritten; a public key is not a private key.
        #expect(throws: SnapshotVerificationError.self) { try SnapshotSignature.writeKeyPair(prefix: prefix) }
        #expect(throws: SnapshotVerificationError.self) { _ = try SnapshotSignature.loadPrivateKey(path: files.publicKey.path) }
    }

    @Test func theSignatureDocumentNamesTheAlgorithmAndTheKey() throws {
        let directory = try TemporaryDirectory("sigdoc")
        let (snapshot, key) = try signedContoso(directory)
        let document = try JSONCoding.decode(Data(contentsOf: snapshot.appendingPathComponent(SnapshotSignature.fileName)))
        #expect(document["algorithm"] == "Ed25519")
        #expect(document["signedFile"] == "manifest.json")
        #expect(document["keyID"]?.stringValue == SnapshotSignature.keyID(key.publicKey))
        #expect(Data(base64Encoded: try #require(document["signature"]?.stringValue))?.count == 64)
    }
}

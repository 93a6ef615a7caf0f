import Crypto
import Foundation
import LifeboatJSON
import LifeboatSnapshot
import _CryptoExtras

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The private key that signs snapshots (Ed25519).
package typealias SnapshotSigningKey = Curve25519.Signing.PrivateKey
/// The public key that checks snapshot signatures (Ed25519).
package typealias SnapshotPublicKey = Curve25519.Signing.PublicKey

/// Why a snapshot was refused: tampered, incomplete, unsigned when a signature was required, or signed by another key.
package struct SnapshotVerificationError: Error, Sendable, CustomStringConvertible {
    /// The file concerned (relative to the snapshot), or the key file.
    package var file: String
    package var problem: String
    package var hint: String?

    package init(file: String, problem: String, hint: String? = nil) {
        self.file = file
        self.problem = problem
        self.hint = hint
    }

    package var description: String { "\(file): \(problem)" + (hint.map { " — \($0)" } ?? "") }
}

/// Ed25519 signatures of snapshots: a detached signature of `manifest.json`, which holds the SHA-256 of
/// every other file, so one signature covers the whole snapshot.
///
/// Files:
/// - private key: PKCS #8 PEM (`-----BEGIN PRIVATE KEY-----`), written with mode 0600;
/// - public key: SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`);
///   both are what `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` read and write;
/// - signature: `manifest.json.sig`, a small JSON document: `algorithm` (`Ed25519`), `signedFile`
///   (`manifest.json`), `keyID` (the first 16 hex digits of the SHA-256 of the raw public key, to say which
///   key signed), and `signature` (base64 of the 64-byte signature of the exact bytes of `manifest.json`).
package enum SnapshotSignature {
    /// The detached signature's file name in a snapshot directory.
    package static let fileName = "manifest.json.sig"

    /// A new key pair.
    package static func generateKey() -> Curve25519.Signing.PrivateKey { Curve25519.Signing.PrivateKey() }

    /// A short, stable name for a public key: 16 hex digits of the SHA-256 of its raw bytes.
    package static func keyID(_ key: Curve25519.Signing.PublicKey) -> String {
        String(Snapshot.sha256Hex(key.rawRepresentation).prefix(16))
    }

    /// Writes `PREFIX.key` (private, 0600) and `PREFIX.pub` (public); refuses to overwrite either.
    @discardableResult
    package static func writeKeyPair(prefix: String, key: Curve25519.Signing.PrivateKey = generateKey()) throws -> (
        privateKey: URL, publicKey: URL
    ) {
        let privateURL = URL(fileURLWithPath: prefix + ".key"), publicURL = URL(fileURLWithPath: prefix + ".pub")
        for url in [privateURL, publicURL] where FileManager.default.fileExists(atPath: url.path) {
            throw SnapshotVerificationError(
                file: url.path, problem: "already exists", hint: "choose another --out prefix; keys are never overwritten")
        }
        // Created 0600 (and exclusively) from the start: the key is never readable by others, not even for a moment.
        let descriptor = open(privateURL.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw SnapshotVerificationError(
                file: privateURL.path, problem: "cannot be created (\(String(cString: strerror(errno))))",
                hint: "check that the directory exists and is writable")
        }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        try handle.write(contentsOf: Data((key.pemRepresentation + "\n").utf8))
        try handle.close()
        try Data((key.publicKey.pemRepresentation + "\n").utf8).write(to: publicURL, options: .withoutOverwriting)
        return (privateURL, publicURL)
    }

    /// Reads a private key file (PKCS #8 PEM).
    package static func loadPrivateKey(path: String) throws -> Curve25519.Signing.PrivateKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SnapshotVerificationError(file: path, problem: "cannot read the signing key")
        }
        do {
            return try Curve25519.Signing.PrivateKey(pemRepresentation: text)
        } catch {
            throw SnapshotVerificationError(
                file: path, problem: "not an Ed25519 private key in PEM (PKCS #8)",
                hint: "create one with `lifeboat snapshot keygen --out PREFIX`")
        }
    }

    /// Reads a public key file (SubjectPublicKeyInfo PEM).
    package static func loadPublicKey(path: String) throws -> Curve25519.Signing.PublicKey {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SnapshotVerificationError(file: path, problem: "cannot read the public key")
        }
        do {
            return try Curve25519.Signing.PublicKey(pemRepresentation: text)
        } catch {
            throw SnapshotVerificationError(
                file: path, problem: "not an Ed25519 public key in PEM",
                hint: "use the .pub file `lifeboat snapshot keygen` wrote")
        }
    }

    /// Signs the snapshot's `manifest.json` into `manifest.json.sig`.
    package static func sign(directory: URL, privateKey: Curve25519.Signing.PrivateKey) throws {
        let manifest = try Data(contentsOf: directory.appendingPathComponent(Snapshot.manifestFileName))
        let signature = try privateKey.signature(for: manifest)
        let document: JSONValue = [
            "algorithm": "Ed25519", "signedFile": .string(Snapshot.manifestFileName), "keyID": .string(keyID(privateKey.publicKey)),
            "signature": .string(signature.base64EncodedString()),
        ]
        try JSONCoding.encodePretty(document).write(to: directory.appendingPathComponent(fileName), options: .atomic)
    }

    /// What a run's chain of custody says about the snapshot's signature: verified with the operator's key before the
    /// first request (over the manifest whose SHA-256 is given: the bytes the run restores from), signed but not verified
    /// by this run, or not signed.
    package static func custodyStatement(directory: URL, verifiedKey: Curve25519.Signing.PublicKey?, manifestSHA256: String? = nil)
        -> String
    {
        if let verifiedKey {
            let covered =
                manifestSHA256.map {
                    " over \(Snapshot.manifestFileName) SHA-256 \($0) (the bytes every restored file was checked against)"
                } ?? ""
            return
                "signed with Ed25519 key \(keyID(verifiedKey)): \(fileName) was verified against the operator's public key before the first request"
                + covered
        }
        let url = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            return
                "not signed (no \(fileName)); integrity rests on the manifest's SHA-256 of every file, checked when the snapshot was loaded"
        }
        let signer = (try? Data(contentsOf: url)).flatMap { try? JSONCoding.decode($0) }?["keyID"]?.stringValue
        return "signed" + (signer.map { " (the signature file names key \($0))" } ?? "")
            + " but not verified by this run (`--public-key` verifies it); integrity rests on the manifest's SHA-256 of every file"
    }

    /// Checks that the manifest bytes a loaded snapshot was verified against carry a valid signature by `publicKey`.
    /// The manifest is not read again: what is verified is what was used.
    package static func verify(_ snapshot: Snapshot, publicKey: Curve25519.Signing.PublicKey) throws(SnapshotVerificationError) {
        try verify(manifest: snapshot.manifestData, directory: snapshot.directory, publicKey: publicKey)
    }

    /// Checks that `manifest` (the exact bytes of a manifest) carries a valid signature by `publicKey`, read from
    /// `directory`'s `manifest.json.sig`.
    package static func verify(manifest: Data, directory: URL, publicKey: Curve25519.Signing.PublicKey) throws(SnapshotVerificationError) {
        try checkSignature(directory: directory, publicKey: publicKey, manifest: manifest)
    }

    /// Checks that `manifest.json` as it is on disk now carries a valid signature by `publicKey`. Prefer
    /// ``verify(_:publicKey:)`` on a loaded snapshot: this reads the file, which may have changed since.
    package static func verify(directory: URL, publicKey: Curve25519.Signing.PublicKey) throws(SnapshotVerificationError) {
        guard let manifest = try? Data(contentsOf: directory.appendingPathComponent(Snapshot.manifestFileName)) else {
            throw SnapshotVerificationError(file: Snapshot.manifestFileName, problem: "cannot be read")
        }
        try checkSignature(directory: directory, publicKey: publicKey, manifest: manifest)
    }

    private static func checkSignature(directory: URL, publicKey: Curve25519.Signing.PublicKey, manifest: Data)
        throws(SnapshotVerificationError)
    {
        let signatureURL = directory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: signatureURL.path) else {
            throw SnapshotVerificationError(
                file: fileName, problem: "missing: the snapshot is not signed, but a public key was given",
                hint: "refusing an unsigned snapshot; capture with --sign-key, or omit --public-key to accept unsigned snapshots")
        }
        guard let data = try? Data(contentsOf: signatureURL), let document = try? JSONCoding.decode(data),
            document["algorithm"]?.stringValue == "Ed25519", let encoded = document["signature"]?.stringValue,
            let signature = Data(base64Encoded: encoded)
        else {
            throw SnapshotVerificationError(
                file: fileName, problem: "not a Lifeboat Ed25519 signature",
                hint: "the signature file was altered; refusing the snapshot")
        }
        let expected = keyID(publicKey)
        if let signer = document["keyID"]?.stringValue, signer != expected {
            throw SnapshotVerificationError(
                file: fileName, problem: "signed by key \(signer), not by the given public key \(expected)",
                hint: "the snapshot was signed by someone else, or you gave the wrong --public-key; refusing it")
        }
        guard publicKey.isValidSignature(signature, for: manifest) else {
            throw SnapshotVerificationError(
                file: Snapshot.manifestFileName, problem: "does not match its signature (key \(expected))",
                hint: "the manifest was changed after it was signed; refusing a tampered snapshot")
        }
    }
}

/// Everything `lifeboat snapshot verify` checks, as a library call (for `lifeboat rebuild --public-key`
/// before it sends any request).
package enum SnapshotVerification {
    /// What a verified snapshot holds.
    package struct Report: Sendable {
        package var manifest: SnapshotManifest
        package var counts: [ObjectType: Int]
        /// The signer's key id when the signature was checked; `nil` when no public key was given.
        package var signedBy: String?
        /// `true` when the directory holds a signature (checked or not).
        package var hasSignature: Bool
        /// Files in the directory that are not part of the snapshot and that Lifeboat never reads (e.g. README.md).
        package var ignoredFiles: [String]
        /// SHA-256 of the manifest bytes that were verified (and that every file was checked against).
        package var manifestSHA256: String
    }

    /// Checks a snapshot: with a public key, the signature of `manifest.json` first (a missing signature is
    /// refused); then every file's SHA-256 and object count (``Snapshot/load(from:)``), that no listed file is
    /// missing, and that no unlisted file is one Lifeboat could read (`.json`, `.sig`).
    package static func verify(directory: URL, publicKey: Curve25519.Signing.PublicKey?) throws(SnapshotVerificationError) -> Report {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent(Snapshot.manifestFileName).path) else {
            throw SnapshotVerificationError(
                file: directory.appendingPathComponent(Snapshot.manifestFileName).path,
                problem: "missing: this is not a snapshot (or an unfinished capture)",
                hint: "a snapshot directory holds manifest.json and Graph JSON files")
        }
        let snapshot: Snapshot
        do {
            snapshot = try Snapshot.load(from: directory)
        } catch {
            // With a key, a manifest that is not signed (or not by this key) is the first thing to say.
            if let publicKey, let manifest = try? Data(contentsOf: directory.appendingPathComponent(Snapshot.manifestFileName)) {
                try SnapshotSignature.verify(manifest: manifest, directory: directory, publicKey: publicKey)
            }
            throw SnapshotVerificationError(
                file: error.file,
                problem: [error.location, error.field, error.problem].compactMap { $0 }
                    .filter { !$0.isEmpty }.joined(separator: ": "), hint: error.hint)
        }
        // The signature is checked over the manifest bytes the files were checked against, read once.
        if let publicKey { try SnapshotSignature.verify(snapshot, publicKey: publicKey) }
        let reserved: Set<String> = [Snapshot.manifestFileName, SnapshotSignature.fileName]
        var ignored: [String] = []
        let present = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted()
        for name in present where !reserved.contains(name) && snapshot.manifest.files[name] == nil {
            let lowered = name.lowercased()
            if lowered.hasSuffix(".json") || lowered.hasSuffix(".sig") {
                throw SnapshotVerificationError(
                    file: name, problem: "present but not listed in the manifest",
                    hint: "the snapshot was altered after capture; refusing it")
            }
            ignored.append(name)
        }
        let hasSignature = FileManager.default.fileExists(atPath: directory.appendingPathComponent(SnapshotSignature.fileName).path)
        return Report(
            manifest: snapshot.manifest, counts: snapshot.counts, signedBy: publicKey.map(SnapshotSignature.keyID),
            hasSignature: hasSignature, ignoredFiles: ignored, manifestSHA256: snapshot.manifestSHA256)
    }
}

import ArgumentParser
import Foundation
import LifeboatCapture
import LifeboatGraph
import LifeboatSnapshot

extension SnapshotCommand {
    /// `lifeboat snapshot capture`: read a tenant through Graph into a new snapshot directory.
    struct Capture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a tenant through Microsoft Graph into a new snapshot directory.",
            discussion: """
                Needs an application with Directory.Read.All, Policy.Read.All and RoleManagement.Read.Directory \
                (User-LifeCycleInfo.Read.All for employee leave dates). The snapshot is written to a hidden \
                directory next to --out and renamed only when complete: an interrupted capture never leaves a \
                snapshot that looks whole (delete any leftover .NAME.capture-* directory).

                --incremental --base PREV reads only the users and groups Graph's delta query reports changed \
                since PREV (whose delta links it stored in deltaLinks.json) and re-reads everything else in full.
                """)

        @OptionGroup var connection: GraphConnectionOptions

        @Option(help: ArgumentHelp("The snapshot directory to create (it must not exist).", valueName: "dir"))
        var out: String

        @Flag(help: "Apply only the changes since --base to users and groups (Graph delta query).")
        var incremental = false

        @Option(help: ArgumentHelp("The previous snapshot, for --incremental.", valueName: "dir"))
        var base: String?

        @Option(
            help: ArgumentHelp("Sign manifest.json with this Ed25519 private key (from `lifeboat snapshot keygen`).", valueName: "file"))
        var signKey: String?

        func validate() throws {
            if incremental != (base != nil) { throw ValidationError("--incremental and --base go together") }
        }

        func run() async throws {
            let key: SnapshotSigningKey?
            do {
                key = try signKey.map(SnapshotSignature.loadPrivateKey(path:))
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
            var graph = try connection.graphClient()
            // A backup yields to the tenant's production traffic when Graph has to choose.
            graph.throttlePriority = "Low"
            let capture = SnapshotCapture(graph: graph) { progress in print("  \(progress)") }
            print("Capturing \(connection.tenant) into \(out)\(incremental ? " (incremental from \(base ?? ""))" : "")")
            do {
                let summary = try await capture.capture(
                    CaptureOptions(
                        output: URL(fileURLWithPath: out), base: base.map { URL(fileURLWithPath: $0) }, signingKey: key,
                        toolVersion: "lifeboat \(LifeboatVersion.current)"))
                let total = summary.counts.values.reduce(0, +)
                print(
                    "Snapshot written: \(summary.directory.path) (\(total) objects, tenant \(summary.manifest.sourceTenantId))"
                        + (summary.signed ? ", signed" : ""))
            } catch let error as CaptureError {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            } catch let error as GraphError {
                printError("lifeboat: capture failed, no snapshot written: \(error)")
                throw ExitStatus.failed
            }
        }
    }

    /// `lifeboat snapshot verify`: check hashes, completeness and (optionally) the signature.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a snapshot before trusting it: every file's SHA-256, nothing missing or added, and its signature.",
            discussion: "Exit code 0 when the snapshot verifies, 2 when it is refused (the message says why).")

        @Argument(help: ArgumentHelp("The snapshot directory.", valueName: "dir"))
        var directory: String

        @Option(help: ArgumentHelp("Require a valid signature by this Ed25519 public key (PEM).", valueName: "file"))
        var publicKey: String?

        func run() async throws {
            do {
                let key = try publicKey.map(SnapshotSignature.loadPublicKey(path:))
                let report = try SnapshotVerification.verify(directory: URL(fileURLWithPath: directory), publicKey: key)
                let files = report.manifest.files.count
                print(
                    "Snapshot \(directory) verifies: \(files) files, tenant \(report.manifest.sourceTenantId), captured \(report.manifest.capturedAt)"
                )
                for type in ObjectType.allCases where report.manifest.files[type.fileName] != nil {
                    print("  \(type.plural): \(report.counts[type] ?? 0)")
                }
                if let signer = report.signedBy {
                    print("Signature: valid, key \(signer), over manifest.json SHA-256 \(report.manifestSHA256)")
                } else {
                    print(
                        report.hasSignature
                            ? "Signature: present, not checked (give --public-key to check it)" : "Signature: none (unsigned snapshot)")
                }
                for name in report.ignoredFiles { print("Not part of the snapshot (ignored): \(name)") }
            } catch {
                printError("lifeboat: snapshot refused: \(error)")
                throw ExitStatus.invalidInput
            }
        }
    }

    /// `lifeboat snapshot keygen`: an Ed25519 key pair for signing snapshots.
    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an Ed25519 key pair for signing snapshots: PREFIX.key (private, 0600) and PREFIX.pub.",
            discussion:
                "Both are PEM (PKCS #8 and SubjectPublicKeyInfo), readable by OpenSSL. Keep the private key off the machines that restore.")

        @Option(help: ArgumentHelp("The path prefix of the two key files.", valueName: "prefix"))
        var out: String

        func run() async throws {
            do {
                let key = SnapshotSignature.generateKey()
                let files = try SnapshotSignature.writeKeyPair(prefix: out, key: key)
                print("Private key: \(files.privateKey.path) (mode 0600; pass it to `snapshot capture --sign-key`)")
                print(
                    "Public key:  \(files.publicKey.path) (key \(SnapshotSignature.keyID(key.publicKey)); pass it to `snapshot verify --public-key`)"
                )
            } catch {
                printError("lifeboat: \(error)")
                throw ExitStatus.invalidInput
            }
        }
    }
}

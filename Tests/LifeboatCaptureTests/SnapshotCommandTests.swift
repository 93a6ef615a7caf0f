import Foundation
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

/// `lifeboat snapshot keygen | capture | verify` as an operator runs them, against the served fake tenant.
@Suite struct SnapshotCommandTests {
    @Test func keygenCaptureSignedAndVerifyThroughTheCLI() async throws {
        let rig = try await CaptureRig.start()
        let work = rig.directory
        let secretFile = work.path("client-secret")
        try Data(CaptureRig.secret.utf8).write(to: URL(fileURLWithPath: secretFile))

        let keygen = try await runLifeboat(["snapshot", "keygen", "--out", "signing"], in: work)
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let other = try await runLifeboat(["snapshot", "keygen", "--out", "other"], in: work)
        #expect(other.status == 0)

        let capture = try await runLifeboat(
            [
                "snapshot", "capture", "--graph-url", rig.root, "--authority-url", rig.root, "--tenant", rig.tenant.tenantID,
                "--client-id", CaptureRig.clientID, "--client-secret-file", secretFile, "--out", "snap", "--sign-key", "signing.key",
            ], in: work)
        #expect(capture.status == 0, "\(capture.stderr)")
        #expect(capture.stdout.contains("users: 40"))
        #expect(capture.stdout.contains("groups: 14"))
        #expect(capture.stdout.contains(", signed"))
        #expect(!capture.stdout.contains(CaptureRig.secret) && !capture.stderr.contains(CaptureRig.secret))

        let verified = try await runLifeboat(["snapshot", "verify", "snap", "--public-key", "signing.pub"], in: work)
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(verified.stdout.contains("Signature: valid"))

        let wrongKey = try await runLifeboat(["snapshot", "verify", "snap", "--public-key", "other.pub"], in: work)
        #expect(wrongKey.status == 2)
        #expect(wrongKey.stderr.contains("not by the given public key"))

        let users = work.url.appendingPathComponent("snap/users.json")
        var data = try Data(contentsOf: users)
        data[data.count / 3] ^= 0x20
        try data.write(to: users)
        let tampered = try await runLifeboat(["snapshot", "verify", "snap"], in: work)
        #expect(tampered.status == 2)
        #expect(tampered.stderr.contains("users.json"))

        // An incremental capture from a base that no longer verifies is refused before it writes anything.
        let incremental = try await runLifeboat(
            [
                "snapshot", "capture", "--graph-url", rig.root, "--authority-url", rig.root, "--tenant", rig.tenant.tenantID,
                "--client-id", CaptureRig.clientID, "--client-secret-file", secretFile, "--out", "snap2", "--incremental", "--base", "snap",
            ], in: work)
        #expect(incremental.status == 2)
        #expect(!FileManager.default.fileExists(atPath: work.path("snap2")))
        await rig.stop()
    }
}

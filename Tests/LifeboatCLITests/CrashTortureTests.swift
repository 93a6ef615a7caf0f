import Foundation
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatTestSupport
import Testing

/// `lifeboat fake-tenant serve` as a child process, on a port it chose (or the one it had before a restart).
struct ServedFakeProcess {
    static let clientID = "7d1c5a6e-2b3f-4c8d-9e0f-112233445566"
    let child: ChildProcess
    let root: String
    let port: Int

    static func start(_ directory: TemporaryDirectory, state: String, port: Int = 0) async throws -> ServedFakeProcess {
        let secretFile = directory.path("client.secret")
        if !FileManager.default.fileExists(atPath: secretFile) {
            try Data("torture-secret-\(UUID().uuidString)\n".utf8).write(to: URL(fileURLWithPath: secretFile))
        }
        let child = try ChildProcess(
            [
                "fake-tenant", "serve", "--port", String(port), "--state", directory.path(state), "--profile", "realistic",
                "--tenant-domain", "contosodr.onmicrosoft.com", "--client-id", clientID, "--client-secret-file", secretFile,
            ], in: directory)
        for _ in 0..<1_000 {
            if let line = child.output.split(separator: "\n").first(where: { $0.contains("listening on http://127.0.0.1:") }),
                let bound = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return ServedFakeProcess(child: child, root: "http://127.0.0.1:\(bound)", port: bound)
            }
            guard child.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        await child.kill()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve did not start: \(child.output)"])
    }

    /// Writes the served tenant has applied, from the open health endpoint (nil while it is down).
    func writes() -> Int? {
        guard let data = try? Data(contentsOf: URL(string: "\(root)/_lifeboat/health")!) else { return nil }
        return (try? JSONCoding.decode(data))?["writes"]?.numberValue.map { Int($0) }
    }
}

/// Crash torture: a rehearsal over HTTP against `fake-tenant serve --profile realistic`, SIGKILLed at seeded moments
/// (after a seeded number of the fake's writes) and resumed each time, with the served fake itself killed and restarted
/// mid-run; the result must equal an uninterrupted run's (natural keys, no duplicate, complete ID map).
/// A few kills by default; 50 with LIFEBOAT_LONG_TESTS=1.
@Suite(.serialized) struct CrashTortureTests {
    static let kills = ProcessInfo.processInfo.environment["LIFEBOAT_LONG_TESTS"] == "1" ? 50 : 3

    func rehearse(_ served: ServedFakeProcess, _ directory: TemporaryDirectory, state: String) throws -> ChildProcess {
        try ChildProcess(
            [
                "tabletop", "--graph-url", served.root, "--client-id", ServedFakeProcess.clientID, "--client-secret-file",
                directory.path("client.secret"),
                "--runbook", Fixtures.runbook("rebuild-new-tenant.yaml").path, "--snapshot", Fixtures.contoso.path, "--state",
                directory.path(state),
            ],
            in: directory)
    }

    func publishDNS(_ served: ServedFakeProcess, _ directory: TemporaryDirectory) async throws {
        for domain in ["contoso.com", "fabrikam-labs.com", "eu.contoso.com"] {
            let result = try await runLifeboat(["fake-tenant", "publish-dns", "--url", served.root, "--domain", domain], in: directory)
            #expect(result.status == 0, "\(result.stderr)")
        }
    }

    @Test func killedAtSeededMomentsAndResumedEqualsAnUninterruptedRun() async throws {
        let directory = try TemporaryDirectory("torture")
        // The uninterrupted reference.
        let reference = try await ServedFakeProcess.start(directory, state: "reference-fake.sqlite")
        try await publishDNS(reference, directory)
        let uninterrupted = try rehearse(reference, directory, state: "reference.sqlite")
        let referenceStatus = await uninterrupted.wait()
        #expect(referenceStatus == 0, "\(uninterrupted.output)")
        let totalWrites = reference.writes() ?? 0
        try await reference.child.end()
        #expect(totalWrites > 20)

        var served = try await ServedFakeProcess.start(directory, state: "torture-fake.sqlite")
        try await publishDNS(served, directory)
        var random = SplitMix(seed: 0x70_27_02_E5)
        var killed = 0, fakeRestarts = 0, attempts = 0
        while attempts < Self.kills * 3 + 10 {
            attempts += 1
            let client = try rehearse(served, directory, state: "drill.sqlite")
            if killed < Self.kills || fakeRestarts == 0 {
                // A seeded moment: a few more writes than the tenant holds now, spread over what is left of the run so
                // that every kill (50 in long mode) lands before the run ends, with at least one write between kills.
                let now = served.writes() ?? 0
                let killsLeft = Self.kills - killed + 1
                let spacing = max(1, (totalWrites - now) / (killsLeft + 1))
                let target = now + 1 + Int(random.next() % UInt64(spacing))
                // Writes in flight overshoot each target, and the run's last stages mostly read (verify, ID map): once
                // 90 % of the writes are in, a seeded patience (1–6 s after the start) kills it in those stages too.
                let started = Date(), patience = 1 + Double(random.next() % 5_000) / 1_000
                while client.isRunning {
                    let writes = served.writes() ?? 0
                    if writes >= target || (writes * 10 >= totalWrites * 9 && Date().timeIntervalSince(started) > patience) { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                if client.isRunning {
                    if killed == Self.kills {
                        // Last, the served fake dies under the client and comes back on the same port; the client rides it
                        // out (or stops and is resumed like a killed run).
                        await served.child.kill()
                        served = try await ServedFakeProcess.start(directory, state: "torture-fake.sqlite", port: served.port)
                        fakeRestarts += 1
                        let status = await client.wait()
                        if status == 0 { break }
                        continue
                    }
                    await client.kill()
                    killed += 1
                    continue
                }
            }
            let status = await client.wait()
            if status == 0 { break }
            // A run that stopped on its own (e.g. while the fake restarted) is resumed like a killed one.
        }
        print("crash torture: \(killed) kills survived, \(fakeRestarts) fake restarts, \(attempts) runs")
        #expect(killed == Self.kills)
        #expect(fakeRestarts == 1)
        try await served.child.end()

        let expected = await TenantPicture.of(try FakeTenant(stateFile: directory.path("reference-fake.sqlite")))
        let actual = await TenantPicture.of(try FakeTenant(stateFile: directory.path("torture-fake.sqlite")))
        #expect(actual.duplicates.isEmpty, "\(actual.duplicates)")
        #expect(actual == expected, "\(actual.differences(from: expected))")
        let idMap = try await runLifeboat(["idmap", "--state", directory.path("drill.sqlite"), "--format", "json"], in: directory)
        let referenceMap = try await runLifeboat(
            ["idmap", "--state", directory.path("reference.sqlite"), "--format", "json"], in: directory)
        let rows = try #require(try JSONCoding.decode(Data(idMap.stdout.utf8)).arrayValue)
        let referenceRows = try #require(try JSONCoding.decode(Data(referenceMap.stdout.utf8)).arrayValue)
        #expect(Set(rows.compactMap { $0["oldId"]?.stringValue }) == Set(referenceRows.compactMap { $0["oldId"]?.stringValue }))
        #expect(rows.count == referenceRows.count)
    }
}

/// SplitMix64, for seeded kill moments.
struct SplitMix {
    var seed: UInt64
    mutating func next() -> UInt64 {
        seed &+= 0x9E37_79B9_7F4A_7C15
        var z = seed
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

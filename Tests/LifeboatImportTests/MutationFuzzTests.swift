import Foundation
import LifeboatEngine
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import LifeboatTestSupport
import Testing

@testable import LifeboatImport

/// A seeded mutation fuzzer over the runbook, snapshot and CSV parsers: every mutated input either parses or is refused
/// with the parser's own error naming the file; none traps (a trap ends the test process, which fails the run).
/// Budget: a few hundred executions per parser by default, 20,000 with LIFEBOAT_LONG_TESTS=1.
@Suite struct MutationFuzzTests {
    static let long = ProcessInfo.processInfo.environment["LIFEBOAT_LONG_TESTS"] == "1"
    static let budget = long ? 20_000 : 300

    /// SplitMix64: the same seed gives the same mutations on every machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Tokens that have broken parsers before: numbers out of range, quotes, line breaks, brackets, invalid UTF-8.
    static let tokens: [[UInt8]] =
        [
            "inf", "-1", "1e300", "nan", ".inf", "\"", "\"\"", "\r\n", "\r", "\n", "{", "}", "[", "]", ",", ":", "\\", "\\u0000",
            "\\ud800", "=1+2", "../", "${", "&a", "*a", "!!binary", "\t", "99999999999999999999", "%", "#",
        ].map { Array($0.utf8) }
        + [[0x00], [0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xEF, 0xBB, 0xBF]]

    /// One to four mutations of `seed`: flip, insert a token, delete a range, duplicate a range, or truncate.
    static func mutate(_ seed: [UInt8], _ random: inout SeededGenerator) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0 where !bytes.isEmpty: bytes[at] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes.insert(contentsOf: tokens[Int.random(in: 0..<tokens.count, using: &random)], at: at)
            case 2 where !bytes.isEmpty: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...64, using: &random)))
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, at + Int.random(in: 1...256, using: &random))
                bytes.insert(contentsOf: bytes[at..<end], at: end)
            default: bytes = Array(bytes.prefix(at))
            }
        }
        return bytes
    }

    @Test func runbookParser() throws {
        var random = SeededGenerator(state: 0x5EED_0001)
        let seeds = try ["rebuild-new-tenant.yaml", "restore-in-place.yaml", "apps-and-consents.yaml"].map {
            Array(try Data(contentsOf: Fixtures.runbook($0)))
        }
        var accepted = 0, refused = 0
        for run in 0..<Self.budget {
            let input = Self.mutate(seeds[run % seeds.count], &random)
            guard let text = String(validatingUTF8Data: Data(input)) else { refused += 1; continue }
            do {
                _ = try Runbook.parse(
                    text, file: "fuzz.yaml", catalog: StageCatalog.specs,
                    builtins: [
                        "target.initialDomain": "contosodr.onmicrosoft.com", "target.tenantId": "t",
                        "snapshot.initialDomain": "contoso.onmicrosoft.com",
                        "snapshot.sourceTenantId": "s",
                    ])
                accepted += 1
            } catch {
                refused += 1
                #expect(error.errors.allSatisfy { $0.file == "fuzz.yaml" })
            }
        }
        print("fuzz runbook parser: \(Self.budget) executions, \(accepted) accepted, \(refused) refused")
        #expect(accepted + refused == Self.budget)
    }

    @Test func snapshotLoader() throws {
        var random = SeededGenerator(state: 0x5EED_0002)
        let directory = try TemporaryDirectory("fuzz-snapshot")
        let snapshot = try Fixtures.copyContoso(into: directory)
        let files = ["users.json", "groups.json", "roleAssignments.json", "applications.json", "manifest.json"]
        let seeds = try files.map { Array(try Data(contentsOf: snapshot.appendingPathComponent($0))) }
        var accepted = 0, refused = 0
        for run in 0..<Self.budget {
            let index = run % files.count
            let copy = try Fixtures.copyContoso(into: directory, as: "s\(run)")
            defer { try? FileManager.default.removeItem(at: copy) }
            let mutated = Data(Self.mutate(seeds[index], &random))
            if files[index] == "manifest.json" {
                try mutated.write(to: copy.appendingPathComponent("manifest.json"))
            } else {
                try Fixtures.rewrite(files[index], in: copy) { _ in mutated }  // re-sealed: the parser sees the mutation
            }
            do {
                _ = try Snapshot.load(from: copy)
                accepted += 1
            } catch {
                refused += 1
                #expect(!error.file.isEmpty && !error.problem.isEmpty)
            }
        }
        print("fuzz snapshot loader: \(Self.budget) executions, \(accepted) accepted, \(refused) refused")
        #expect(accepted + refused == Self.budget)
    }

    @Test func csvParserAndPowerShellImport() throws {
        var random = SeededGenerator(state: 0x5EED_0003)
        let seeds = ImportFixtures.powerShellFiles.filter { $0.name.hasSuffix(".csv") }
        let directory = try TemporaryDirectory("fuzz-csv")
        var accepted = 0, refused = 0, imports = 0
        for run in 0..<Self.budget {
            let seed = seeds[run % seeds.count]
            let mutated = Data(Self.mutate(Array(seed.data), &random))
            do {
                _ = try CSVTable(text: TextDecoding.decode(mutated, file: seed.name), file: seed.name)
                accepted += 1
            } catch {
                refused += 1
                #expect(error.file == seed.name)
            }
            // One run in ten goes through the whole import (column rules, ids, the snapshot it writes and loads).
            if run % 10 == 0 {
                imports += 1
                let input = directory.url.appendingPathComponent("in\(run)"), output = directory.url.appendingPathComponent("out\(run)")
                try ImportFixtures.writePowerShell(into: input)
                try mutated.write(to: input.appendingPathComponent(seed.name))
                do {
                    _ = try SnapshotImport.run(format: .powershellCSV, input: input, output: output, toolVersion: "fuzz")
                } catch {
                    #expect(!FileManager.default.fileExists(atPath: output.path))
                }
                try? FileManager.default.removeItem(at: input)
                try? FileManager.default.removeItem(at: output)
            }
        }
        print("fuzz CSV parser: \(Self.budget) executions (\(accepted) accepted, \(refused) refused), \(imports) full imports")
        #expect(accepted + refused == Self.budget)
    }
}

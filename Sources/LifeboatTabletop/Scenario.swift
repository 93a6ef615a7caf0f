import Foundation
import LifeboatFakeTenant
import LifeboatJSON
import LifeboatRunbook
import LifeboatSnapshot
import Yams

/// A tabletop exercise written down: which runbook, against what tenant (a snapshot, or a generated one of a given
/// size), under which fault profile, with which events injected when, and how long people take at each gate.
///
/// ```yaml
/// lifeboat: 1
/// name: ransomware-full-loss
/// runbook: ../tabletop-ransomware.yaml      # paths are relative to the scenario file
/// snapshot: ../../Examples/contoso          # or: tenant: { users: 50000, seed: 42 }
/// profile: chaos
/// gates: { create-tenant: 4h }
/// events:
///   - { do: throttling-storm, at: 40%, for: 30m, quota: 25% }
///   - { do: kill, stage: users, at: 50%, downtime: 45m }
///   - { do: publish-dns, at: 6h }
/// ```
package struct TabletopScenario: Sendable, Hashable {
    /// Where the tabletop's directory comes from.
    package enum Source: Sendable, Hashable {
        /// A snapshot directory.
        case snapshot(String)
        /// A synthetic tenant written by ``TenantGenerator`` (deterministic from its seed).
        case generated(TenantGenerator.Options)
    }

    /// What the fake tenant is before the run.
    package enum Target: String, Sendable, Hashable {
        /// An empty new tenant: a rebuild after a total loss.
        case newTenant = "new-tenant"
        /// The snapshot's own tenant (original ids), damaged by the scenario's `delete` and `purge` events first.
        case inPlace = "in-place"
    }

    package var file: String
    package var name: String
    package var summary: String?
    /// The runbook's path, resolved against the scenario's directory.
    package var runbookPath: String
    package var runbookLine: Int
    package var source: Source
    package var profile: String?
    package var target: Target
    package var parameters: [String: String]
    /// Simulated seconds people take at a stage's gate, overriding the runbook's `estimatedDuration`.
    package var gateDurations: [String: Double]
    package var gateLines: [String: Int]
    package var events: [ScenarioEvent]
    /// App registrations sharing the work.
    package var apps: Int?
}

/// Something that happens to the exercise at a chosen moment; recorded in the event log when it happens.
package struct ScenarioEvent: Sendable, Hashable {
    /// When it happens.
    package enum Trigger: Sendable, Hashable {
        /// Before the run starts (setup: deletions and purges).
        case start
        /// At this simulated time since the run started.
        case time(Double)
        /// Once this share (0…1) of the run's operations (or of `stage`'s) is finished.
        case progress(Double, stage: String?)
    }

    /// What happens.
    package enum Action: Sendable, Hashable {
        /// Graph's quotas shrink to `share` for `duration` simulated seconds.
        case throttlingStorm(share: Double, duration: Double)
        /// The operator's machine dies (the process is killed) during `stage`, after `share` of its writes were applied;
        /// the resume starts `downtime` simulated seconds later.
        case kill(stage: String, share: Double, downtime: Double)
        /// The domains' verification TXT records appear in DNS (all custom domains when `nil`).
        case publishDNS(domains: [String]?)
        /// Objects are deleted from the in-place target before the run (`purge`: also emptied from the recycle bin).
        case delete(objects: ObjectSelection, purge: Bool, daysAgo: Double)
        /// The custom domains are still verified in the old tenant (`held`), so they cannot be verified in the target — the
        /// hostage case — or the old tenant lets them go (`held: false`).
        case holdDomains(domains: [String], held: Bool)
    }

    /// Objects a `delete` or `purge` event hits.
    package enum ObjectSelection: Sendable, Hashable {
        /// Every object of these snapshot collections (`users`, `groups`, …; `all` for every deletable one).
        case collections([String])
        /// Objects named by id, userPrincipalName or displayName.
        case named([String])
    }

    /// Position in the scenario's `events:` list (0-based): the key its injection is recorded under.
    package var index: Int
    package var name: String
    package var trigger: Trigger
    package var action: Action
    package var line: Int

    /// The key the injection is recorded under in the event log (`operationKey` of `scenario.injected`).
    package var key: String { "scenario:\(index)" }
}

extension TabletopScenario {
    /// The collections a `delete` event can name.
    package static let deletableCollections = [
        "users", "groups", "applications", "servicePrincipals", "administrativeUnits",
        "conditionalAccessPolicies", "namedLocations",
    ]

    /// Reads and validates a scenario file; every problem comes back at once, with its line and field.
    package static func load(contentsOf url: URL) throws(RunbookErrors) -> TabletopScenario {
        let data: Data
        do {
            data = try InputFile.read(url.path, limit: Runbook.textLimit)
        } catch {
            throw RunbookErrors([
                RunbookError(
                    file: url.path, line: 0, field: "file", problem: "cannot read the scenario: it \(error.problem)",
                    hint: "check the --scenario path")
            ])
        }
        guard let text = String(validatingUTF8Data: data) else {
            throw RunbookErrors([RunbookError(file: url.path, line: 0, field: "file", problem: "not UTF-8 text (invalid byte sequence)")])
        }
        return try parse(text, file: url.path)
    }

    /// Parses scenario text; relative paths resolve against the directory of `file`.
    package static func parse(_ text: String, file: String) throws(RunbookErrors) -> TabletopScenario {
        var parser = ScenarioParser(file: file)
        let scenario = parser.parse(text)
        guard parser.errors.isEmpty, let scenario else {
            throw RunbookErrors(
                parser.errors.isEmpty ? [RunbookError(file: file, line: 0, field: "scenario", problem: "empty scenario")] : parser.errors)
        }
        return scenario
    }

    /// Checks the stage ids the scenario names against its runbook.
    package func validate(against runbook: Runbook) throws(RunbookErrors) {
        var errors: [RunbookError] = []
        let ids = runbook.stages.map(\.id)
        for (stage, _) in gateDurations.sorted(by: { $0.key < $1.key }) {
            guard let found = runbook.stage(stage) else {
                errors.append(
                    RunbookError(
                        file: file, line: gateLines[stage] ?? 0, field: "gates.\(stage)", problem: "the runbook has no stage `\(stage)`",
                        hint: "stages: \(ids.joined(separator: ", "))"))
                continue
            }
            if found.gate == nil {
                errors.append(
                    RunbookError(
                        file: file, line: gateLines[stage] ?? 0, field: "gates.\(stage)", problem: "stage `\(stage)` has no gate",
                        hint: "gated stages: \(runbook.stages.filter { $0.gate != nil }.map(\.id).joined(separator: ", "))"))
            }
        }
        for event in events {
            var stages: [String] = []
            if case .progress(_, let stage?) = event.trigger { stages.append(stage) }
            if case .kill(let stage, _, _) = event.action { stages.append(stage) }
            for stage in Set(stages).sorted() where runbook.stage(stage) == nil {
                errors.append(
                    RunbookError(
                        file: file, line: event.line, field: "events[\(event.index)].stage", problem: "the runbook has no stage `\(stage)`",
                        hint: "stages: \(ids.joined(separator: ", "))"))
            }
        }
        if !errors.isEmpty { throw RunbookErrors(errors) }
    }
}

/// Walks the scenario's YAML nodes, collecting every error with its line.
struct ScenarioParser {
    let file: String
    var errors: [RunbookError] = []

    init(file: String) { self.file = file }

    mutating func fail(_ node: Node?, _ field: String, _ problem: String, hint: String? = nil) {
        errors.append(RunbookError(file: file, line: node?.mark?.line ?? 0, field: field, problem: problem, hint: hint))
    }

    var directory: URL { URL(fileURLWithPath: file).deletingLastPathComponent() }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory.appendingPathComponent(path).standardizedFileURL.path
    }

    mutating func parse(_ text: String) -> TabletopScenario? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
                fail(
                    nil, "yaml", "malformed YAML: \(problem)",
                    hint: "check indentation and quoting near line \(mark.line), column \(mark.column)")
                errors[errors.count - 1].line = mark.line
            default:
                fail(nil, "yaml", "malformed YAML: \(error)")
            }
            return nil
        } catch {
            fail(nil, "yaml", "\(error)")
            return nil
        }
        guard let root, let mapping = root.mapping else {
            fail(root, "scenario", "expected a mapping with `runbook`, `snapshot` or `tenant`, and `events`")
            return nil
        }
        let allowed = [
            "lifeboat", "name", "description", "runbook", "snapshot", "tenant", "profile", "target", "parameters", "gates", "events",
            "apps",
        ]
        for (key, _) in mapping where !allowed.contains(key.string ?? "") {
            fail(key, key.string ?? "?", "unknown scenario field", hint: "known fields: \(allowed.joined(separator: ", "))")
        }
        if let version = mapping["lifeboat"], version.int != 1 {
            fail(
                version, "lifeboat", "scenario format \(version.string ?? "?") is not supported", hint: "this lifeboat reads `lifeboat: 1`")
        }
        let name = mapping["name"]?.string ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent

        var runbookPath = ""
        let runbookLine = mapping["runbook"]?.mark?.line ?? 0
        if let node = mapping["runbook"], let path = node.string, !path.isEmpty {
            runbookPath = resolve(path)
            if !FileManager.default.fileExists(atPath: runbookPath) {
                fail(node, "runbook", "no runbook at \(runbookPath)", hint: "paths are relative to the scenario file")
            }
        } else {
            fail(
                mapping["runbook"] ?? root, "runbook", "missing",
                hint: "name the runbook to rehearse, e.g. `runbook: ../rebuild-new-tenant.yaml`")
        }

        var source: TabletopScenario.Source?
        switch (mapping["snapshot"], mapping["tenant"]) {
        case (let node?, nil):
            if let path = node.string, !path.isEmpty {
                let resolved = resolve(path)
                if !FileManager.default.fileExists(atPath: resolved) {
                    fail(node, "snapshot", "no snapshot at \(resolved)", hint: "paths are relative to the scenario file")
                }
                source = .snapshot(resolved)
            } else {
                fail(node, "snapshot", "must be a path to a snapshot directory")
            }
        case (nil, let node?):
            source = parseTenant(node)
        case (_?, let node?):
            fail(node, "tenant", "give either `snapshot` or `tenant`, not both")
        case (nil, nil):
            fail(root, "snapshot", "missing", hint: "give `snapshot: PATH` or `tenant: { users: N }` (a generated tenant)")
        }

        var target = TabletopScenario.Target.newTenant
        if let node = mapping["target"] {
            if let value = node.string.flatMap(TabletopScenario.Target.init(rawValue:)) {
                target = value
            } else {
                fail(node, "target", "must be `new-tenant` or `in-place`")
            }
        }
        if let node = mapping["profile"], node.string?.isEmpty != false {
            fail(node, "profile", "must be a profile name (fast, realistic, chaos) or a file")
        }

        var parameters: [String: String] = [:]
        if let node = mapping["parameters"] {
            if let fields = node.mapping {
                for (key, value) in fields {
                    guard let k = key.string, let v = value.scalar?.string else {
                        fail(value, "parameters", "must map names to values"); continue
                    }
                    parameters[k] = v
                }
            } else {
                fail(node, "parameters", "must be a mapping of runbook parameter names to values")
            }
        }

        var gates: [String: Double] = [:], gateLines: [String: Int] = [:]
        if let node = mapping["gates"] {
            if let fields = node.mapping {
                for (key, value) in fields {
                    let stage = key.string ?? "?"
                    gateLines[stage] = key.mark?.line ?? 0
                    guard let seconds = value.scalar.flatMap({ DurationText.seconds($0.string) }) else {
                        fail(value, "gates.\(stage)", "not a duration from 0s to 3650d", hint: "write e.g. `45m` or `4h`")
                        continue
                    }
                    gates[stage] = seconds
                }
            } else {
                fail(node, "gates", "must map gated stage ids to durations, e.g. `create-tenant: 4h`")
            }
        }

        var apps: Int?
        if let node = mapping["apps"] {
            if let value = node.int, (1...64).contains(value) {
                apps = value
            } else {
                fail(node, "apps", "must be a whole number from 1 to 64")
            }
        }

        var events: [ScenarioEvent] = []
        if let node = mapping["events"] {
            if let list = node.sequence {
                for (index, element) in list.enumerated() {
                    if let event = parseEvent(element, index: index, target: target) { events.append(event) }
                }
            } else {
                fail(node, "events", "must be a list of events")
            }
        }
        guard let source, !runbookPath.isEmpty else { return nil }
        return TabletopScenario(
            file: file, name: name, summary: mapping["description"]?.string, runbookPath: runbookPath, runbookLine: runbookLine,
            source: source, profile: mapping["profile"]?.string, target: target, parameters: parameters,
            gateDurations: gates, gateLines: gateLines, events: events, apps: apps)
    }

    mutating func parseTenant(_ node: Node) -> TabletopScenario.Source? {
        guard let fields = node.mapping else {
            fail(node, "tenant", "must be a mapping such as `{ users: 50000, seed: 42 }`")
            return nil
        }
        let allowed = ["users", "groups", "apps", "seed", "name"]
        for (key, _) in fields where !allowed.contains(key.string ?? "") {
            fail(key, "tenant.\(key.string ?? "?")", "unknown tenant field", hint: "known fields: \(allowed.joined(separator: ", "))")
        }
        func count(_ name: String) -> Int? {
            guard let value = fields[name] else { return nil }
            guard let int = value.int, int > 0 else { fail(value, "tenant.\(name)", "must be a positive whole number"); return nil }
            return int
        }
        guard let users = count("users") else {
            if fields["users"] == nil { fail(node, "tenant.users", "missing", hint: "how many users the generated tenant has") }
            return nil
        }
        var seed: UInt64 = 1
        if let value = fields["seed"] {
            if let parsed = value.string.flatMap(UInt64.init) {
                seed = parsed
            } else {
                fail(value, "tenant.seed", "must be a whole number")
            }
        }
        let options = TenantGenerator.Options(
            users: users, groups: count("groups"), applications: count("apps"), seed: seed,
            name: fields["name"]?.string ?? "contoso")
        do {
            _ = try TenantGenerator(options)
        } catch {
            let field = error.option == "apps" ? "apps" : error.option
            fail(fields[field] ?? node, "tenant.\(field)", error.problem)
            return nil
        }
        return .generated(options)
    }

    /// `40%` → 0.4.
    static func share(_ text: String) -> Double? {
        guard text.hasSuffix("%"), let value = Double(text.dropLast().trimmingCharacters(in: .whitespaces)), value >= 0, value <= 100 else {
            return nil
        }
        return value / 100
    }

    mutating func parseEvent(_ node: Node, index: Int, target: TabletopScenario.Target) -> ScenarioEvent? {
        let path = "events[\(index)]"
        guard let fields = node.mapping else {
            fail(node, path, "must be a mapping with `do:` and when it happens (`at:`)")
            return nil
        }
        let kinds = ["throttling-storm", "kill", "publish-dns", "delete", "purge", "hold-domains", "release-domains"]
        guard let kindNode = fields["do"], let kind = kindNode.string, kinds.contains(kind) else {
            fail(
                fields["do"] ?? node, "\(path).do", fields["do"] == nil ? "missing" : "unknown event `\(fields["do"]?.string ?? "?")`",
                hint: "one of: \(kinds.joined(separator: ", "))")
            return nil
        }
        let allowedFields: [String: [String]] = [
            "throttling-storm": ["at", "stage", "for", "quota"], "kill": ["at", "stage", "downtime"],
            "publish-dns": ["at", "stage", "domains"],
            "delete": ["objects", "daysAgo"], "purge": ["objects"], "hold-domains": ["at", "stage", "domains"],
            "release-domains": ["at", "stage", "domains"],
        ]
        let allowed = ["do", "name"] + allowedFields[kind, default: []]
        for (key, _) in fields where !allowed.contains(key.string ?? "") {
            fail(
                key, "\(path).\(key.string ?? "?")", "`\(kind)` takes no field `\(key.string ?? "?")`",
                hint: "fields: \(allowed.joined(separator: ", "))")
        }
        let stage = fields["stage"]?.string
        let line = node.mark?.line ?? 0
        let name = fields["name"]?.string ?? kind
        let errorCount = errors.count

        func duration(_ field: String, required: Bool) -> Double? {
            guard let value = fields[field] else {
                if required { fail(node, "\(path).\(field)", "missing", hint: "a duration such as `30m` or `6h`") }
                return nil
            }
            guard let seconds = value.scalar.flatMap({ DurationText.seconds($0.string) }) else {
                fail(value, "\(path).\(field)", "not a duration from 0s to 3650d", hint: "write e.g. `30m` or `6h`")
                return nil
            }
            return seconds
        }
        func trigger(defaultShare: Double?) -> ScenarioEvent.Trigger? {
            guard let value = fields["at"] else {
                if let defaultShare { return .progress(defaultShare, stage: stage) }
                fail(node, "\(path).at", "missing", hint: "a simulated time since the start (`6h`) or a share of the operations (`40%`)")
                return nil
            }
            let text = value.scalar?.string ?? ""
            if let share = Self.share(text) { return .progress(share, stage: stage) }
            if let seconds = DurationText.seconds(text) {
                if stage != nil { fail(fields["stage"], "\(path).stage", "`stage` goes with a share (`at: 40%`), not with a time") }
                return .time(seconds)
            }
            fail(value, "\(path).at", "must be a simulated time (`6h`, `90m`) or a share of the operations (`40%`)")
            return nil
        }

        var action: ScenarioEvent.Action?
        var when: ScenarioEvent.Trigger?
        switch kind {
        case "throttling-storm":
            when = trigger(defaultShare: nil)
            let length = duration("for", required: true)
            var share = 0.25
            if let value = fields["quota"] {
                if let parsed = Self.share(value.scalar?.string ?? ""), parsed > 0, parsed < 1 {
                    share = parsed
                } else {
                    fail(value, "\(path).quota", "must be a share of the normal quotas between 0% and 100%, e.g. `25%`")
                }
            }
            if let length { action = .throttlingStorm(share: share, duration: length) }
        case "kill":
            guard let stage else {
                fail(node, "\(path).stage", "missing", hint: "the stage during which the operator's machine dies, e.g. `stage: users`")
                return nil
            }
            when = trigger(defaultShare: 0.5)
            guard case .progress(let share, _)? = when else {
                if when != nil { fail(fields["at"], "\(path).at", "a kill happens at a share of its stage's writes, e.g. `at: 50%`") }
                return nil
            }
            action = .kill(stage: stage, share: share, downtime: duration("downtime", required: false) ?? 0)
        case "publish-dns":
            when = trigger(defaultShare: nil)
            var domains: [String]?
            if let value = fields["domains"] {
                if let list = value.sequence?.compactMap(\.string), !list.isEmpty {
                    domains = list.map { $0.lowercased() }
                } else if let single = value.string {
                    domains = [single.lowercased()]
                } else {
                    fail(value, "\(path).domains", "must be a domain name or a list of them")
                }
            }
            action = .publishDNS(domains: domains)
        case "hold-domains", "release-domains":
            // Held from the start unless `at` says otherwise (the old tenant holds them before the rebuild begins).
            when = fields["at"] == nil ? .start : trigger(defaultShare: nil)
            if let value = fields["domains"], let list = value.sequence?.compactMap(\.string) ?? value.string.map({ [$0] }), !list.isEmpty {
                action = .holdDomains(domains: list.map { $0.lowercased() }, held: kind == "hold-domains")
            } else {
                fail(
                    fields["domains"] ?? node, "\(path).domains", "missing",
                    hint: "the custom domains the old tenant holds, e.g. `domains: [contoso.com]`")
            }
        default:  // delete, purge
            if target != .inPlace {
                fail(
                    kindNode, "\(path).do", "`\(kind)` damages the tenant before an in-place restore",
                    hint: "add `target: in-place` to the scenario")
            }
            when = .start
            var selection: ScenarioEvent.ObjectSelection?
            if let value = fields["objects"] {
                if let word = value.string {
                    let collections = word == "all" ? TabletopScenario.deletableCollections : [word]
                    if collections.allSatisfy(TabletopScenario.deletableCollections.contains) {
                        selection = .collections(collections)
                    } else {
                        // One object named by its UPN, display name or id.
                        selection = .named([word])
                    }
                } else if let list = value.sequence?.compactMap(\.string), !list.isEmpty {
                    selection = .named(list)
                } else {
                    fail(
                        value, "\(path).objects",
                        "must be `all`, a collection (\(TabletopScenario.deletableCollections.joined(separator: ", "))) or a list of objects"
                    )
                }
            } else {
                fail(
                    node, "\(path).objects", "missing",
                    hint: "`all`, a collection such as `users`, or a list of userPrincipalNames, display names or ids")
            }
            var daysAgo = 0.0
            if let value = fields["daysAgo"] {
                if let days = value.float, days.isFinite, days >= 0, days <= 3_650 {
                    daysAgo = days
                } else {
                    fail(value, "\(path).daysAgo", "must be a number of days from 0 to 3650")
                }
            }
            if let selection { action = .delete(objects: selection, purge: kind == "purge", daysAgo: daysAgo) }
        }
        guard errors.count == errorCount, let action, let when else { return nil }
        return ScenarioEvent(index: index, name: name, trigger: when, action: action, line: line)
    }
}

extension TabletopScenario {
    /// Checks the objects `delete` and `purge` events name against the snapshot the run starts from.
    package func validate(against snapshot: Snapshot) throws(RunbookErrors) {
        var errors: [RunbookError] = []
        for event in events {
            guard case .delete(let selection, _, _) = event.action else { continue }
            do {
                _ = try TabletopSession.resolve(selection, in: snapshot)
            } catch {
                errors.append(
                    RunbookError(
                        file: file, line: event.line, field: "events[\(event.index)].objects", problem: error.description,
                        hint: "name users by userPrincipalName, other objects by displayName or id"))
            }
        }
        if !errors.isEmpty { throw RunbookErrors(errors) }
    }
}

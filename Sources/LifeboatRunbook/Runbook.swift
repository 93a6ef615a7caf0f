import Crypto
import Foundation
import LifeboatJSON
import Yams

/// A recovery runbook: ordered stages, their options, gates and the recovery-time objective.
package struct Runbook: Sendable {
    /// A runbook parameter, substituted into values written as `${name}`.
    package struct Parameter: Sendable, Hashable {
        package var name: String
        package var summary: String?
        package var defaultValue: String?
        package var line: Int
    }

    /// A manual approval that must be given before a stage runs.
    package struct Gate: Sendable, Hashable {
        /// What the operator must do or check, shown when the run pauses.
        package var instructions: String
        package var line: Int
    }

    /// One stage of the runbook.
    package struct Stage: Sendable, Hashable, Identifiable {
        package var id: String
        package var kind: String
        package var title: String
        /// Stages that must finish first.
        package var after: [String]
        package var options: StageOptions
        package var gate: Gate?
        /// Time people need for manual work in this stage, in seconds (for RTO estimates).
        package var estimatedDuration: Double?
        package var line: Int
    }

    /// The file the runbook was read from (as given).
    package var file: String
    /// SHA-256 of the runbook file, for the chain of custody.
    package var sha256: String
    package var name: String
    package var summary: String?
    /// The recovery-time objective in seconds, if the runbook states one.
    package var objective: Double?
    package var parameters: [Parameter]
    /// The parameter values in force (supplied, or defaults).
    package var parameterValues: [String: String]
    /// Stages in execution order (a topological order of `after`, stable in file order).
    package var stages: [Stage]

    /// Whether the runbook restores into the snapshot's own tenant (it restores from the recycle bin,
    /// or recreates users with `sameTenant`), rather than rebuilding into another one.
    package var restoresInPlace: Bool {
        stages.contains { $0.kind == "recycleBin.restore" || $0.options.bool("sameTenant") == true }
    }

    /// The largest runbook or scenario file read (4 MiB).
    package static let textLimit = 4 << 20

    /// Reads and validates a runbook file.
    ///
    /// `fileParameters` are values from a parameters file found next to the snapshot: they come after `parameters`
    /// (the command line and `--params`) and before the runbook's defaults, and names the runbook does not declare are ignored.
    package static func load(
        contentsOf url: URL, catalog: [StageKindSpec], parameters: [String: String] = [:],
        fileParameters: [String: String] = [:],
        builtins: [String: String] = [:]
    ) throws(RunbookErrors) -> Runbook {
        let data: Data
        do {
            data = try InputFile.read(url.path, limit: textLimit)
        } catch {
            throw RunbookErrors([
                RunbookError(
                    file: url.path, line: 0, field: "file", problem: "cannot read the runbook: it \(error.problem)",
                    hint: "check the --runbook path")
            ])
        }
        guard let text = String(validatingUTF8Data: data) else {
            throw RunbookErrors([RunbookError(file: url.path, line: 0, field: "file", problem: "not UTF-8 text (invalid byte sequence)")])
        }
        return try parse(text, file: url.path, catalog: catalog, parameters: parameters, fileParameters: fileParameters, builtins: builtins)
    }

    /// Parses and validates runbook text: every problem is collected, with its line and a hint.
    ///
    /// `builtins` are values Lifeboat supplies itself (`target.initialDomain`, `snapshot.sourceTenantId`, …);
    /// they need no declaration.
    /// `${runbook.permissions}` (in gate instructions) is the least privileged Graph application permissions that cover
    /// every stage of the runbook, from ``StagePermissions``.
    package static func parse(
        _ text: String, file: String, catalog: [StageKindSpec], parameters supplied: [String: String] = [:],
        fileParameters: [String: String] = [:],
        builtins: [String: String] = [:]
    ) throws(RunbookErrors) -> Runbook {
        var parser = RunbookParser(file: file, catalog: catalog, supplied: supplied)
        parser.fileSupplied = fileParameters
        parser.values = builtins
        let runbook = parser.parse(text)
        if !parser.errors.isEmpty { throw RunbookErrors(parser.errors) }
        guard var runbook else { throw RunbookErrors([RunbookError(file: file, line: 0, field: "runbook", problem: "empty runbook")]) }
        runbook.sha256 = SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
        return runbook
    }

    /// The stage with this id.
    package func stage(_ id: String) -> Stage? { stages.first { $0.id == id } }

    /// The least privileged Graph application permissions that cover every stage (``StagePermissions``).
    package var permissions: [String] { StagePermissions.leastPrivileged(for: stages.map(\.kind)) }

    /// The name of the built-in that stands for ``permissions`` in gate instructions.
    package static let permissionsBuiltin = "runbook.permissions"
}

/// Walks the YAML node tree, collecting errors instead of stopping at the first.
struct RunbookParser {
    let file: String
    let catalog: [StageKindSpec]
    let supplied: [String: String]
    var errors: [RunbookError] = []
    var values: [String: String] = [:]
    /// Values from a parameters file next to the snapshot: below `supplied`, above defaults; undeclared names ignored.
    var fileSupplied: [String: String] = [:]

    init(file: String, catalog: [StageKindSpec], supplied: [String: String]) {
        self.file = file
        self.catalog = catalog
        self.supplied = supplied
    }

    mutating func fail(_ node: Node?, _ field: String, _ problem: String, hint: String? = nil) {
        errors.append(RunbookError(file: file, line: node?.mark?.line ?? 0, field: field, problem: problem, hint: hint))
    }

    mutating func parse(_ text: String) -> Runbook? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            errors.append(yamlError(error))
            return nil
        } catch {
            fail(nil, "yaml", "\(error)")
            return nil
        }
        guard let root, let mapping = root.mapping else {
            fail(root, "runbook", "expected a mapping with `name`, `stages` and optional `parameters`, `objective`")
            return nil
        }
        let allowed = ["lifeboat", "name", "description", "objective", "parameters", "stages"]
        for (key, _) in mapping where !allowed.contains(key.string ?? "") {
            fail(key, key.string ?? "?", "unknown runbook field", hint: "known fields: \(allowed.joined(separator: ", "))")
        }
        if let version = mapping["lifeboat"], version.int != 1 {
            fail(version, "lifeboat", "runbook format \(version.string ?? "?") is not supported", hint: "this lifeboat reads `lifeboat: 1`")
        }
        let name = mapping["name"]?.string ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        var objective: Double?
        if let node = mapping["objective"] {
            objective = DurationText.seconds(node.string ?? "")
            if objective == nil {
                fail(node, "objective", "not a duration from 0s to 3650d", hint: "write e.g. `objective: 8h` or `objective: 1d12h`")
            }
        }

        let parameters = parseParameters(mapping["parameters"])
        for parameter in parameters {
            if let value = supplied[parameter.name] ?? fileSupplied[parameter.name] {
                values[parameter.name] = value
            } else if let value = parameter.defaultValue {
                // Defaults may refer to built-ins and to parameters declared before them.
                values[parameter.name] = substitute(value, node: mapping["parameters"], field: "parameters.\(parameter.name).default")
            }
        }
        for name in supplied.keys.sorted() where !parameters.contains(where: { $0.name == name }) {
            fail(
                mapping["parameters"] ?? root, "parameters", "`\(name)` was supplied but the runbook declares no such parameter",
                hint: "declared: \(parameters.map(\.name).joined(separator: ", "))")
        }

        guard let stagesNode = mapping["stages"] else {
            fail(root, "stages", "missing", hint: "a runbook needs a `stages:` list")
            return nil
        }
        guard let sequence = stagesNode.sequence, !sequence.isEmpty else {
            fail(stagesNode, "stages", "must be a non-empty list of stages")
            return nil
        }
        var stages: [Runbook.Stage] = []
        var previous: String?
        for (index, node) in sequence.enumerated() {
            if let stage = parseStage(node, index: index, previous: previous) {
                if stages.contains(where: { $0.id == stage.id }) {
                    fail(node["id"], "stages[\(index)].id", "duplicate stage id `\(stage.id)`", hint: "stage ids must be unique")
                }
                stages.append(stage)
                previous = stage.id
            }
        }
        var ordered = order(stages, nodes: sequence)
        // The gate's permission list is generated from the stages, so it cannot drift from what they send.
        let permissions = StagePermissions.leastPrivileged(for: ordered.map(\.kind)).joined(separator: ", ")
        for index in ordered.indices {
            guard let gate = ordered[index].gate else { continue }
            ordered[index].gate?.instructions = gate.instructions.replacingOccurrences(
                of: "${\(Runbook.permissionsBuiltin)}", with: permissions)
        }
        return Runbook(
            file: file, sha256: "", name: name, summary: mapping["description"]?.string, objective: objective,
            parameters: parameters, parameterValues: values, stages: ordered)
    }

    mutating func parseParameters(_ node: Node?) -> [Runbook.Parameter] {
        guard let node else { return [] }
        guard let mapping = node.mapping else {
            fail(node, "parameters", "must be a mapping of parameter names")
            return []
        }
        var result: [Runbook.Parameter] = []
        for (key, value) in mapping {
            let name = key.string ?? ""
            let line = key.mark?.line ?? 0
            if let fields = value.mapping {
                for (field, _) in fields where !["description", "default"].contains(field.string ?? "") {
                    fail(
                        field, "parameters.\(name).\(field.string ?? "?")", "unknown parameter field",
                        hint: "use `description` and `default`")
                }
                result.append(
                    .init(name: name, summary: fields["description"]?.string, defaultValue: fields["default"]?.string, line: line))
            } else if value.scalar != nil {
                let text = value.string ?? ""
                result.append(.init(name: name, summary: nil, defaultValue: text.isEmpty && value.null != nil ? nil : text, line: line))
            } else {
                fail(value, "parameters.\(name)", "must be a default value or a mapping with `description` and `default`")
            }
        }
        return result
    }

    mutating func parseStage(_ node: Node, index: Int, previous: String?) -> Runbook.Stage? {
        let path = "stages[\(index)]"
        guard let mapping = node.mapping else {
            fail(node, path, "must be a mapping with `id` and `kind`")
            return nil
        }
        let allowed = ["id", "kind", "title", "after", "options", "gate", "estimatedDuration", "description"]
        for (key, _) in mapping where !allowed.contains(key.string ?? "") {
            fail(key, "\(path).\(key.string ?? "?")", "unknown stage field", hint: "known fields: \(allowed.joined(separator: ", "))")
        }
        guard let id = mapping["id"]?.string, !id.isEmpty else {
            fail(node, "\(path).id", "missing", hint: "every stage needs a unique `id`")
            return nil
        }
        let stagePath = "stages[\(index)] (\(id))"
        guard let kindNode = mapping["kind"], let kind = kindNode.string else {
            fail(node, "\(stagePath).kind", "missing", hint: "known kinds: \(catalog.map(\.name).sorted().joined(separator: ", "))")
            return nil
        }
        let spec = catalog.first { $0.name == kind }
        if spec == nil {
            let suggestion = closest(kind, in: catalog.map(\.name))
            fail(
                kindNode, "\(stagePath).kind", "unknown stage kind `\(kind)`",
                hint: suggestion.map { "did you mean `\($0)`?" } ?? "known kinds: \(catalog.map(\.name).sorted().joined(separator: ", "))")
        }
        let title = substitute(mapping["title"]?.string ?? id, node: mapping["title"], field: "\(stagePath).title")

        var after: [String] = []
        if let afterNode = mapping["after"] {
            if let list = afterNode.sequence {
                after = list.compactMap(\.string)
            } else if let single = afterNode.string {
                after = [single]
            } else {
                fail(afterNode, "\(stagePath).after", "must be a stage id or a list of stage ids")
            }
        } else if let previous {
            after = [previous]
        }

        var options = StageOptions()
        if let optionsNode = mapping["options"] {
            if let spec {
                options = parseOptions(optionsNode, spec: spec, path: "\(stagePath).options")
            }
        } else if let spec {
            for option in spec.options where option.required {
                fail(node, "\(stagePath).options.\(option.name)", "required option missing", hint: option.summary)
            }
        }

        var gate: Runbook.Gate?
        if let gateNode = mapping["gate"] {
            if let text = gateNode.string {
                gate = .init(instructions: substitute(text, node: gateNode, field: "\(stagePath).gate"), line: gateNode.mark?.line ?? 0)
            } else if let fields = gateNode.mapping, let instructions = fields["instructions"]?.string {
                gate = .init(
                    instructions: substitute(instructions, node: fields["instructions"], field: "\(stagePath).gate.instructions"),
                    line: gateNode.mark?.line ?? 0)
            } else {
                fail(gateNode, "\(stagePath).gate", "must be instructions text or a mapping with `instructions`")
            }
        }
        var estimated: Double?
        if let durationNode = mapping["estimatedDuration"] {
            estimated = DurationText.seconds(durationNode.string ?? "")
            if estimated == nil {
                fail(durationNode, "\(stagePath).estimatedDuration", "not a duration from 0s to 3650d", hint: "write e.g. `45m` or `2h`")
            }
        }
        return Runbook.Stage(
            id: id, kind: kind, title: title, after: after, options: options, gate: gate,
            estimatedDuration: estimated, line: node.mark?.line ?? 0)
    }

    mutating func parseOptions(_ node: Node, spec: StageKindSpec, path: String) -> StageOptions {
        guard let mapping = node.mapping else {
            fail(node, path, "must be a mapping of option names to values")
            return StageOptions()
        }
        var values: [String: OptionValue] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard let option = spec.options.first(where: { $0.name == name }) else {
                let known = spec.options.map(\.name)
                fail(
                    key, "\(path).\(name)", "`\(spec.name)` has no option `\(name)`",
                    hint: known.isEmpty
                        ? "this kind takes no options"
                        : (closest(name, in: known).map { "did you mean `\($0)`?" }
                            ?? "known options: \(known.joined(separator: ", "))"))
                continue
            }
            if let parsed = parseValue(value, type: option.type, field: "\(path).\(name)") { values[name] = parsed }
        }
        for option in spec.options where option.required && values[option.name] == nil && mapping[option.name] == nil {
            fail(node, "\(path).\(option.name)", "required option missing", hint: option.summary)
        }
        return StageOptions(values)
    }

    mutating func parseValue(_ node: Node, type: OptionType, field: String) -> OptionValue? {
        switch type {
        case .string:
            guard let text = node.scalar?.string else { fail(node, field, "must be a string"); return nil }
            return .string(substitute(text, node: node, field: field))
        case .bool:
            guard let bool = node.bool else { fail(node, field, "must be true or false"); return nil }
            return .bool(bool)
        case .integer:
            let text = node.scalar.map { substitute($0.string, node: node, field: field) }
            guard let text, let int = Int(text) else { fail(node, field, "must be a whole number"); return nil }
            return .integer(int)
        case .duration:
            let text = node.scalar.map { substitute($0.string, node: node, field: field) } ?? ""
            guard let seconds = DurationText.seconds(text) else {
                fail(node, field, "not a duration from 0s to 3650d", hint: "write e.g. `30s`, `10m`, `2h`"); return nil
            }
            return .duration(seconds)
        case .stringList:
            if let scalar = node.scalar { return .stringList([substitute(scalar.string, node: node, field: field)]) }
            guard let list = node.sequence else { fail(node, field, "must be a list of strings"); return nil }
            var strings: [String] = []
            for element in list {
                guard let text = element.scalar?.string else { fail(element, field, "must be a list of strings"); return nil }
                strings.append(substitute(text, node: element, field: field))
            }
            return .stringList(strings)
        case .stringMap:
            guard let mapping = node.mapping else { fail(node, field, "must be a mapping of strings to strings"); return nil }
            var map: [String: String] = [:]
            for (key, value) in mapping {
                guard let k = key.scalar?.string, let v = value.scalar?.string else {
                    fail(value, field, "must be a mapping of strings to strings")
                    return nil
                }
                map[substitute(k, node: key, field: field)] = substitute(v, node: value, field: "\(field).\(k)")
            }
            return .stringMap(map)
        }
    }

    /// Replaces `${name}` with the parameter's value; a missing parameter is an error at that line.
    mutating func substitute(_ text: String, node: Node?, field: String) -> String {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                fail(node, field, "unterminated `${` in \"\(text)\"", hint: "write `${parameterName}`")
                return text
            }
            let name = String(rest[start.upperBound..<end])
            if name == Runbook.permissionsBuiltin {
                result += "${\(name)}"  // filled in once every stage is known
            } else if let value = values[name] {
                result += value
            } else {
                fail(
                    node, field, "parameter `\(name)` has no value",
                    hint: "pass `--param \(name)=VALUE` or put `\(name): VALUE` in a parameters file (`--params FILE`, or "
                        + "`\(RunbookParameterFile.besideSnapshot)` next to the snapshot); declare it under `parameters:` if the runbook does not"
                )
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }

    /// Orders stages so that each comes after its `after` stages; reports unknown targets and cycles.
    mutating func order(_ stages: [Runbook.Stage], nodes: Node.Sequence) -> [Runbook.Stage] {
        let ids = Set(stages.map(\.id))
        var valid = stages
        for (index, stage) in stages.enumerated() {
            for target in stage.after where !ids.contains(target) {
                let suggestion = closest(target, in: Array(ids))
                errors.append(
                    RunbookError(
                        file: file, line: stage.line, field: "stages[\(index)] (\(stage.id)).after",
                        problem: "no stage with id `\(target)`",
                        hint: suggestion.map { "did you mean `\($0)`?" } ?? "after: names stage ids of this runbook"))
            }
            valid[index].after = stage.after.filter { ids.contains($0) }
        }
        // Kahn's algorithm, always taking the ready stage that comes first in the file (a heap of file positions):
        // O((stages + edges) log stages), where picking the first ready stage by scanning was quadratic.
        var dependents: [String: [Int]] = [:]
        var waitingFor = [Int](repeating: 0, count: valid.count)
        for (index, stage) in valid.enumerated() {
            let targets = Set(stage.after)
            waitingFor[index] = targets.count
            for target in targets { dependents[target, default: []].append(index) }
        }
        var ready = FilePositionHeap()
        for index in valid.indices where waitingFor[index] == 0 { ready.push(index) }
        var ordered: [Runbook.Stage] = []
        var placed = [Bool](repeating: false, count: valid.count)
        var released: Set<String> = []
        while let index = ready.pop() {
            placed[index] = true
            ordered.append(valid[index])
            // A duplicated id releases its dependents once (duplicates are reported elsewhere).
            guard released.insert(valid[index].id).inserted else { continue }
            for dependent in dependents[valid[index].id] ?? [] {
                waitingFor[dependent] -= 1
                if waitingFor[dependent] == 0 { ready.push(dependent) }
            }
        }
        let remaining = valid.indices.filter { !placed[$0] }.map { valid[$0] }
        if !remaining.isEmpty {
            let cycle = findCycle(remaining)
            let first = remaining.first { $0.id == cycle.first } ?? remaining[0]
            errors.append(
                RunbookError(
                    file: file, line: first.line, field: "stages (\(first.id)).after",
                    problem: "stages depend on each other in a cycle: \(cycle.joined(separator: " → "))",
                    hint: "remove one of these `after` entries"))
            return ordered + remaining
        }
        return ordered
    }

    func findCycle(_ stages: [Runbook.Stage]) -> [String] {
        let byID = Dictionary(stages.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var path: [String] = []
        var current = stages[0].id
        while !path.contains(current) {
            path.append(current)
            guard let next = byID[current]?.after.first(where: { byID[$0] != nil }) else { return path }
            current = next
        }
        let start = path.firstIndex(of: current)!
        return Array(path[start...]) + [current]
    }

    func yamlError(_ error: YamlError) -> RunbookError {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return RunbookError(
                file: file, line: mark.line, field: "yaml", problem: "malformed YAML: \(problem)",
                hint: "check indentation and quoting near line \(mark.line), column \(mark.column)")
        default:
            return RunbookError(file: file, line: 0, field: "yaml", problem: "malformed YAML: \(error)")
        }
    }

    /// The closest name by edit distance, if it is close enough to be a typo.
    func closest(_ name: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(name.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, name.count / 3) else { return nil }
        return best
    }

    func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var row = Array(0...b.count)
        for i in 1...a.count {
            var previous = row[0]
            row[0] = i
            for j in 1...b.count {
                let current = row[j]
                row[j] = a[i - 1] == b[j - 1] ? previous : min(previous, row[j], row[j - 1]) + 1
                previous = current
            }
        }
        return row[b.count]
    }
}

extension String {
    /// The text of UTF-8 bytes (a leading byte-order mark dropped), or nil when any byte sequence is not valid UTF-8:
    /// invalid input is refused, never repaired with U+FFFD.
    package init?(validatingUTF8Data data: Data) {
        let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        guard let text = String(validating: body, as: UTF8.self) else { return nil }
        self = text
    }
}

/// A min-heap of stage positions in the file.
struct FilePositionHeap {
    private var items: [Int] = []

    mutating func push(_ value: Int) {
        items.append(value)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Int? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < items.count, items[left] < items[smallest] { smallest = left }
                if right < items.count, items[right] < items[smallest] { smallest = right }
                guard smallest != parent else { break }
                items.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }
}

import Foundation
import Yams

/// A file of runbook parameter values (`name: value` per line, YAML): the operator's and break-glass accounts of one
/// tenant, kept with its snapshot (`parameters.yaml` next to it is read automatically) or given with `--params FILE`.
package enum RunbookParameterFile {
    /// The file name looked for in the snapshot's directory.
    package static let besideSnapshot = "parameters.yaml"

    /// Reads a parameters file; every problem names the file and line.
    package static func load(contentsOf url: URL) throws(RunbookErrors) -> [String: String] {
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            throw RunbookErrors([
                RunbookError(
                    file: url.path, line: 0, field: "file", problem: "cannot read the parameters file",
                    hint: "check the path given to --params")
            ])
        }
        return try parse(text, file: url.path)
    }

    /// Parses parameters text: a mapping of parameter names to scalar values.
    package static func parse(_ text: String, file: String) throws(RunbookErrors) -> [String: String] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw RunbookErrors([RunbookError(file: file, line: 0, field: "yaml", problem: "malformed YAML: \(error)")])
        }
        guard let root else { return [:] }
        guard let mapping = root.mapping else {
            throw RunbookErrors([
                RunbookError(
                    file: file, line: root.mark?.line ?? 0, field: "parameters",
                    problem: "expected a mapping of parameter names to values", hint: "write e.g. `operator: admin@example.com`")
            ])
        }
        var values: [String: String] = [:]
        var errors: [RunbookError] = []
        for (key, value) in mapping {
            guard let name = key.string, let text = value.scalar?.string, value.null == nil else {
                errors.append(
                    RunbookError(
                        file: file, line: key.mark?.line ?? 0, field: key.string ?? "?", problem: "must be a single value",
                        hint: "write `name: value`"))
                continue
            }
            values[name] = text
        }
        if !errors.isEmpty { throw RunbookErrors(errors) }
        return values
    }

    /// The values of `parameters.yaml` in the snapshot's directory, or none when there is no such file.
    package static func beside(snapshotDirectory: URL) throws(RunbookErrors) -> [String: String] {
        let url = snapshotDirectory.appendingPathComponent(besideSnapshot)
        guard FileManager.default.fileExists(atPath: url.path) else { return [:] }
        return try load(contentsOf: url)
    }
}

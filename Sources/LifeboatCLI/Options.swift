import ArgumentParser
import Foundation

/// `--runbook`, `--snapshot` and `--param`, shared by commands that read a runbook.
struct RunbookOptions: ParsableArguments {
    @Option(help: "The runbook (YAML).")
    var runbook: String

    @Option(help: "The snapshot directory (manifest.json and Graph JSON files).")
    var snapshot: String

    @Option(name: .customLong("param"), help: ArgumentHelp("A runbook parameter as NAME=VALUE (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    /// The `--param` values as a dictionary; throws on a value without `=`.
    func parameterValues() throws -> [String: String] { try Self.parse(parameters) }

    /// `NAME=VALUE` strings as a dictionary; throws on a value without `=`.
    static func parse(_ parameters: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for parameter in parameters {
            guard let equals = parameter.firstIndex(of: "="), equals != parameter.startIndex else {
                throw ValidationError("--param expects NAME=VALUE, got \"\(parameter)\"")
            }
            values[String(parameter[..<equals])] = String(parameter[parameter.index(after: equals)...])
        }
        return values
    }
}

/// `--state`, the checkpoint database.
struct StateOptions: ParsableArguments {
    @Option(help: "The checkpoint database (SQLite). The same --state resumes the same run.")
    var state: String
}

import ArgumentParser
import Foundation
import LifeboatRunbook

/// `--runbook`, `--snapshot` and `--param`, shared by commands that read a runbook.
struct RunbookOptions: ParsableArguments {
    @Option(help: "The runbook (YAML).")
    var runbook: String

    @Option(help: "The snapshot directory (manifest.json and Graph JSON files).")
    var snapshot: String

    @Option(name: .customLong("param"), help: ArgumentHelp("A runbook parameter as NAME=VALUE (repeatable).", valueName: "name=value"))
    var parameters: [String] = []

    @Option(
        name: .customLong("params"),
        help: ArgumentHelp(
            "A parameters file (YAML, NAME: VALUE per line); --param values win over it. "
                + "Without it, parameters.yaml next to the snapshot is read.", valueName: "file"))
    var parametersFile: String?

    /// The `--params` file's values overlaid with the `--param` values; throws on a value without `=` or a bad file.
    func parameterValues() throws -> [String: String] { try Self.parse(parameters, file: parametersFile) }

    /// `NAME=VALUE` strings over the values of a parameters file; prints the file's problems and exits with the invalid-input code.
    static func parse(_ parameters: [String], file: String?) throws -> [String: String] {
        var values: [String: String] = [:]
        if let file {
            do {
                values = try RunbookParameterFile.load(contentsOf: URL(fileURLWithPath: file))
            } catch {
                printError("lifeboat: the parameters file is not valid:\n\(error)")
                throw ExitStatus.invalidInput
            }
        }
        return values.merging(try parse(parameters)) { _, new in new }
    }

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

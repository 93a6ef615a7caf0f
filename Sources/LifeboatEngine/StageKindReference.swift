import LifeboatRunbook

/// The stage-kind reference (`Docs/stage-kinds.md`), generated from the stage specs and the permission table, so the
/// documentation cannot drift from what the runbook validator accepts. `lifeboat stage-kinds` prints it; a test
/// compares it with the committed file.
package enum StageKindReference {
    /// The path of the generated page, relative to the repository root.
    package static let path = "Docs/stage-kinds.md"

    /// The command that rewrites ``path``.
    package static let regenerateCommand = "swift run lifeboat stage-kinds > \(path)"

    /// The page in Markdown: one section per stage kind (alphabetical) with what it restores, its options and the
    /// Graph application permissions it needs.
    package static func markdown(specs: [StageKindSpec] = StageCatalog.specs) -> String {
        var lines = [
            "# Stage kinds",
            "",
            "<!-- Generated from the stage specs (Sources/LifeboatEngine/Stages/) and StagePermissions; do not edit.",
            "     Regenerate with: \(regenerateCommand) -->",
            "",
            "Every kind a runbook's `kind:` may name. For how stages are ordered, gated and narrowed with `where` and",
            "`memberOf`, and what `adoptExisting` does, see [runbooks.md](runbooks.md). The permissions are Microsoft Graph",
            "application permissions, least privileged first; any one of the alternatives in parentheses satisfies the same need.",
            "",
            "| kind | options |",
            "|---|---|",
        ]
        for spec in specs {
            let options = spec.options.isEmpty ? "—" : spec.options.map { "`\($0.name)`" }.joined(separator: ", ")
            lines.append("| [`\(spec.name)`](#\(anchor(spec.name))) | \(options) |")
        }
        for spec in specs {
            lines += ["", "## `\(spec.name)`", "", sentence(spec.summary)]
            if !spec.options.isEmpty {
                lines += ["", "Options:", ""]
                for option in spec.options {
                    let required = option.required ? ", required" : ""
                    lines.append("- `\(option.name)` (\(typeName(option.type))\(required)): \(option.summary)")
                }
            }
            let permissions = StagePermissions.requirements(of: spec.name)
            lines += [
                "",
                "Permissions: "
                    + (permissions.isEmpty ? "none (sends no Graph request)." : permissions.map(describe).joined(separator: "; ") + "."),
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// GitHub's heading anchor for a kind name in backticks: lower-cased, dots dropped.
    static func anchor(_ name: String) -> String {
        name.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    static func sentence(_ text: String) -> String {
        guard let first = text.first else { return text }
        let capitalised = first.isLowercase ? first.uppercased() + text.dropFirst() : text
        return capitalised.hasSuffix(".") ? capitalised : capitalised + "."
    }

    static func typeName(_ type: OptionType) -> String {
        switch type {
        case .string: "string"
        case .bool: "true or false"
        case .integer: "integer"
        case .duration: "duration such as `30m` or `2h`"
        case .stringList: "list of strings"
        case .stringMap: "mapping of strings"
        }
    }

    static func describe(_ requirement: PermissionRequirement) -> String {
        let rest = requirement.anyOf.dropFirst()
        return "`\(requirement.leastPrivileged)`" + (rest.isEmpty ? "" : " (or " + rest.map { "`\($0)`" }.joined(separator: ", ") + ")")
    }
}

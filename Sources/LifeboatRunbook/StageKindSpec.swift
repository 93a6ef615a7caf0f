import Foundation

/// The type of a stage option's value.
package enum OptionType: String, Sendable, Hashable {
    case string
    case bool
    case integer
    /// A duration such as `90s`, `30m`, `2h`, `1d`, `1h30m`.
    case duration
    /// A list of strings.
    case stringList
    /// A mapping of strings to strings.
    case stringMap
}

/// One option a stage kind accepts.
package struct OptionSpec: Sendable, Hashable {
    package var name: String
    package var type: OptionType
    package var summary: String
    package var required: Bool

    package init(_ name: String, _ type: OptionType, _ summary: String, required: Bool = false) {
        self.name = name
        self.type = type
        self.summary = summary
        self.required = required
    }
}

/// What the runbook validator knows of a stage kind: its name and the options it takes.
///
/// The engine implements the kinds; the runbook only checks that stages use them correctly.
package struct StageKindSpec: Sendable, Hashable {
    package var name: String
    /// What the kind restores, in Markdown: the stage-kind reference (`Docs/stage-kinds.md`) is generated from it.
    package var summary: String
    package var options: [OptionSpec]

    package init(name: String, summary: String, options: [OptionSpec]) {
        self.name = name
        self.summary = summary
        self.options = options
    }
}

/// A stage option's value after parsing and `${...}` substitution.
package enum OptionValue: Sendable, Hashable {
    case string(String)
    case bool(Bool)
    case integer(Int)
    case duration(Double)
    case stringList([String])
    case stringMap([String: String])
}

/// The options of one stage, typed and substituted.
package struct StageOptions: Sendable, Hashable {
    package var values: [String: OptionValue]
    package init(_ values: [String: OptionValue] = [:]) { self.values = values }

    package func string(_ name: String) -> String? {
        if case .string(let value)? = values[name] { return value }
        return nil
    }
    package func bool(_ name: String) -> Bool? {
        if case .bool(let value)? = values[name] { return value }
        return nil
    }
    package func integer(_ name: String) -> Int? {
        if case .integer(let value)? = values[name] { return value }
        return nil
    }
    package func duration(_ name: String) -> Double? {
        if case .duration(let value)? = values[name] { return value }
        return nil
    }
    package func stringList(_ name: String) -> [String]? {
        if case .stringList(let value)? = values[name] { return value }
        return nil
    }
    package func stringMap(_ name: String) -> [String: String]? {
        if case .stringMap(let value)? = values[name] { return value }
        return nil
    }
}

/// Parses durations written as `90s`, `30m`, `2h`, `1d`, `1h30m` (or a bare number of seconds).
package enum DurationText {
    /// The longest duration any input may state: 3650 days. Longer (`1e20`, `inf`, `nan`) is refused where it is
    /// parsed, so no later arithmetic or formatting can overflow.
    package static let maximum: Double = 3_650 * 86_400

    /// Seconds, or nil when the text is not a duration from 0 to ``maximum``.
    package static func seconds(_ text: String) -> Double? {
        guard let value = unbounded(text), value.isFinite, value >= 0, value <= maximum else { return nil }
        return value
    }

    private static func unbounded(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.utf8.count <= 64 else { return nil }
        // Only digits and '.': no "inf", "nan", exponents or hexadecimal floats.
        if !trimmed.isEmpty, trimmed.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) {
            return Double(trimmed)
        }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in trimmed {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3_600
            case "d": unit = 86_400
            default: return nil
            }
            guard let value = Double(number) else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        return number.isEmpty && sawUnit ? total : nil
    }

    /// Formats seconds as `1d 2h 03m`, `2h 05m`, `4m 10s` or `12s`. Any value formats (a stored one may be damaged):
    /// not a number, negative or beyond 10^12 seconds are written as such instead of trapping.
    package static func format(_ seconds: Double) -> String {
        guard seconds.isFinite else { return seconds.isNaN ? "(not a number)" : "(infinite)" }
        guard seconds >= 0 else { return "-" + format(-seconds) }
        guard seconds < 1e12 else { return "(over 30,000 years)" }
        let total = Int(seconds.rounded())
        let days = total / 86_400, hours = (total % 86_400) / 3_600, minutes = (total % 3_600) / 60, secs = total % 60
        if days > 0 { return "\(days)d \(hours)h \(String(format: "%02d", minutes))m" }
        if hours > 0 { return "\(hours)h \(String(format: "%02d", minutes))m" }
        if minutes > 0 { return "\(minutes)m \(String(format: "%02d", secs))s" }
        return "\(secs)s"
    }
}

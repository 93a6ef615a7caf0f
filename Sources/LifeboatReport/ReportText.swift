import Foundation

/// Times as the checkpoint writes them (ISO 8601, with or without fractional seconds) and as the report shows them.
package enum ReportTime {
    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()

    /// Parses an ISO 8601 timestamp; nil when it does not parse.
    package static func parse(_ text: String) -> Date? {
        (try? fractional.parse(text)) ?? (try? whole.parse(text))
    }

    /// ISO 8601 in UTC with milliseconds, for JSON.
    package static func iso(_ date: Date) -> String { fractional.format(date) }

    /// `2026-11-22 00:00:03 UTC`, for people.
    package static func human(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(
            format: "%04d-%02d-%02d %02d:%02d:%02d UTC", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    /// `HH:MM:SS` in UTC, for chart axes.
    package static func clock(_ date: Date) -> String {
        String(human(date).dropFirst(11).prefix(8))
    }

    /// A duration for people: `0.04s`, `2.5s`, `12s`, `3m 05s`, `2h 03m`, `3d 4h`.
    package static func duration(_ seconds: Double) -> String {
        // Values come back from a checkpoint that may be damaged: never trap on them.
        guard seconds.isFinite else { return seconds.isNaN ? "(not a number)" : "(infinite)" }
        guard seconds < 1e12 else { return "(over 30,000 years)" }
        let seconds = max(0, seconds)
        if seconds < 1 { return String(format: "%.2fs", seconds) }
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        let total = Int(seconds.rounded())
        if total < 60 { return "\(total)s" }
        if total < 3_600 { return String(format: "%dm %02ds", total / 60, total % 60) }
        if total < 86_400 { return String(format: "%dh %02dm", total / 3_600, (total % 3_600) / 60) }
        return "\(total / 86_400)d \((total % 86_400) / 3_600)h"
    }
}

/// Escaping of values from the snapshot and the checkpoint. Display names are attacker-controlled input.
package enum ReportEscaping {
    /// Escapes text for HTML element content and quoted attribute values (also valid inside inline SVG).
    package static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "`": out += "&#96;"
            case "\u{0}"..."\u{8}", "\u{B}", "\u{C}", "\u{E}"..."\u{1F}", "\u{7F}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// Escapes text for Markdown, table cells included: no pipes, newlines, HTML, emphasis, links or code spans
    /// survive as syntax.
    package static func markdown(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "|": out += "\\|"
            case "\\", "`", "*", "_", "[", "]", "~": out += "\\" + String(scalar)
            case "\n", "\r", "\u{2028}", "\u{2029}": out += " "
            case "\u{0}"..."\u{1F}", "\u{7F}": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

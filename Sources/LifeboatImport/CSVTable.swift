import Foundation
import LifeboatJSON

/// One CSV record: its fields and the line it starts on (a quoted field may span lines).
package struct CSVRow: Sendable, Equatable {
    package var line: Int
    package var fields: [String]
}

/// A CSV file as PowerShell's `Export-Csv` writes it: an optional `#TYPE` line, a header row, then
/// one record per object; every field may be quoted, quotes are doubled, and quoted fields may hold
/// delimiters and line breaks. The delimiter is `,` unless the header says `;` or tab (`-UseCulture`).
package struct CSVTable: Sendable {
    /// The file name used in errors.
    package var file: String
    package var header: [String]
    package var rows: [CSVRow]
    /// The line of the header row.
    package var headerLine: Int

    /// Column index by normalised header name (lower case, letters and digits only).
    private var indexByKey: [String: Int] = [:]

    /// Parses CSV text; throws with the file, line and column of the first problem.
    package init(text: String, file: String) throws(ImportError) {
        self.file = file
        var scalars = Array(text.unicodeScalars)
        var line = 1
        // Windows PowerShell's `Export-Csv` starts with `#TYPE Namespace.Type` unless -NoTypeInformation.
        if scalars.starts(with: "#TYPE".unicodeScalars) {
            let end = scalars.firstIndex(where: { $0 == "\n" || $0 == "\r" }) ?? scalars.endIndex
            var next = end
            if next < scalars.endIndex, scalars[next] == "\r" { next += 1 }
            if next < scalars.endIndex, scalars[next] == "\n" { next += 1 }
            scalars.removeSubrange(0..<next)
            line = 2
        }
        let delimiter = Self.detectDelimiter(scalars)
        var records = try Self.parse(scalars, delimiter: delimiter, firstLine: line, file: file)
        guard !records.isEmpty else {
            throw ImportError(
                file: file, line: 1, problem: "the file is empty; expected a header row",
                hint: "export with Export-Csv so that the first row names the columns")
        }
        let headerRecord = records.removeFirst()
        header = headerRecord.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        headerLine = headerRecord.line
        for (index, name) in header.enumerated() {
            let key = Self.key(name)
            guard !key.isEmpty else {
                throw ImportError(
                    file: file, line: headerLine, column: "column \(index + 1)", problem: "the header has an empty column name")
            }
            if indexByKey[key] != nil {
                throw ImportError(file: file, line: headerLine, column: name, problem: "the column appears twice in the header")
            }
            indexByKey[key] = index
        }
        for record in records where record.fields.count != header.count {
            throw ImportError(
                file: file, line: record.line,
                problem: "the row has \(record.fields.count) fields but the header has \(header.count)",
                hint: "a field holding the delimiter or a line break must be quoted; check for a truncated or hand-edited row")
        }
        rows = records
    }

    /// Reads and decodes a CSV file (UTF-8 with or without BOM, UTF-16 with BOM, or Windows-1252).
    package init(contentsOf url: URL, file: String) throws(ImportError) {
        let data: Data
        do {
            data = try InputFile.read(url.path, limit: ImportInput.fileLimit)
        } catch {
            throw ImportError(file: file, problem: "cannot be read: it \(error.problem)")
        }
        try self.init(text: TextDecoding.decode(data, file: file), file: file)
    }

    /// The index of the first column whose normalised name is one of `names`.
    package func column(_ names: [String]) -> Int? {
        for name in names {
            if let index = indexByKey[Self.key(name)] { return index }
        }
        return nil
    }

    /// The header name of a column.
    package func name(_ column: Int) -> String { header[column] }

    /// The text without leading and trailing whitespace and line breaks (ASCII without Foundation, which costs
    /// microseconds per cell; other text as `trimmingCharacters(in: .whitespacesAndNewlines)`).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        if first < 0x80, last < 0x80, !isSpace(first), !isSpace(last) { return text }
        if utf8.allSatisfy({ $0 < 0x80 }) {
            let bytes = Array(utf8)
            guard let start = bytes.firstIndex(where: { !isSpace($0) }), let end = bytes.lastIndex(where: { !isSpace($0) }) else {
                return ""
            }
            return String(decoding: bytes[start...end], as: UTF8.self)
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `UserPrincipalName`, `user_principal_name` and `User Principal Name` name the same column.
    static func key(_ name: String) -> String {
        // ASCII names (nearly all headers) without Foundation's character sets, which cost microseconds per scalar.
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(name.utf8.count)
            for byte in name.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): bytes.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte + 32)
                default: break
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
        return String(String.UnicodeScalarView(name.lowercased().unicodeScalars.filter { CharacterSet.alphanumerics.contains($0) }))
    }

    private static func detectDelimiter(_ scalars: [Unicode.Scalar]) -> Unicode.Scalar {
        var counts: [Unicode.Scalar: Int] = [",": 0, ";": 0, "\t": 0]
        var quoted = false
        for scalar in scalars {
            if scalar == "\"" { quoted.toggle(); continue }
            if quoted { continue }
            if scalar == "\n" || scalar == "\r" { break }
            if counts[scalar] != nil { counts[scalar]! += 1 }
        }
        let best = counts.max { $0.value < $1.value || ($0.value == $1.value && $0.key != ",") }!
        return best.value > 0 ? best.key : ","
    }

    private static func parse(_ scalars: [Unicode.Scalar], delimiter: Unicode.Scalar, firstLine: Int, file: String) throws(ImportError)
        -> [CSVRow]
    {
        var rows: [CSVRow] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = firstLine
        var recordLine = firstLine
        var index = 0
        var atFieldStart = true
        var recordHasContent = false
        let count = scalars.count

        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            atFieldStart = true
        }
        func endRecord() {
            endField()
            // A blank line is not a record.
            if recordHasContent || fields.count > 1 || !(fields.first ?? "").isEmpty {
                rows.append(CSVRow(line: recordLine, fields: fields))
            }
            fields = []
            recordHasContent = false
        }

        while index < count {
            let scalar = scalars[index]
            if atFieldStart && scalar == "\"" {
                // A quoted field: runs to the closing quote; "" is a literal quote.
                let openedOn = line
                recordHasContent = true
                index += 1
                var closed = false
                while index < count {
                    let inner = scalars[index]
                    if inner == "\"" {
                        if index + 1 < count, scalars[index + 1] == "\"" {
                            field.append("\"")
                            index += 2
                            continue
                        }
                        closed = true
                        index += 1
                        break
                    }
                    if inner == "\r" {
                        // CR LF or a lone CR inside a field is one line break, kept as LF.
                        if index + 1 < count, scalars[index + 1] == "\n" { index += 1 }
                        field.append("\n")
                        line += 1
                    } else if inner == "\n" {
                        field.append("\n")
                        line += 1
                    } else {
                        field.append(inner)
                    }
                    index += 1
                }
                guard closed else {
                    throw ImportError(
                        file: file, line: openedOn, column: "field \(fields.count + 1)",
                        problem: "a quoted field starts here and is never closed",
                        hint: "the file is truncated, or a quote inside a field was not doubled")
                }
                atFieldStart = false
                if index < count {
                    let next = scalars[index]
                    if next != delimiter && next != "\n" && next != "\r" {
                        throw ImportError(
                            file: file, line: line, column: "field \(fields.count + 1)",
                            problem: "unexpected text after a closing quote",
                            hint: "a quote inside a quoted field must be doubled (\"\")")
                    }
                }
                continue
            }
            atFieldStart = false
            switch scalar {
            case delimiter:
                recordHasContent = true
                endField()
                index += 1
            case "\r", "\n":
                if scalar == "\r", index + 1 < count, scalars[index + 1] == "\n" { index += 1 }
                index += 1
                endRecord()
                line += 1
                recordLine = line
            default:
                field.append(scalar)
                index += 1
            }
        }
        if !atFieldStart || !field.isEmpty || !fields.isEmpty || recordHasContent { endRecord() }
        return rows
    }
}

/// Text decoding for files written by Windows PowerShell 5.1 and PowerShell 7.
enum TextDecoding {
    /// UTF-8 (BOM stripped), UTF-16 LE/BE with a BOM, else Windows-1252 when the bytes are not UTF-8.
    static func decode(_ data: Data, file: String) throws(ImportError) -> String {
        let bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            guard let text = String(validating: bytes.dropFirst(3), as: UTF8.self) else {
                throw ImportError(file: file, problem: "starts with a UTF-8 byte-order mark but is not valid UTF-8")
            }
            return text
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let encoding: String.Encoding = bytes[0] == 0xFF ? .utf16LittleEndian : .utf16BigEndian
            guard (bytes.count - 2) % 2 == 0, let text = String(data: Data(bytes.dropFirst(2)), encoding: encoding) else {
                throw ImportError(file: file, problem: "starts with a UTF-16 byte-order mark but is not valid UTF-16")
            }
            return text
        }
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        // Windows PowerShell's "Default" encoding is the ANSI code page, Windows-1252 on Western systems.
        if let text = String(data: data, encoding: .windowsCP1252) { return text }
        throw ImportError(
            file: file, problem: "is neither UTF-8, UTF-16 nor Windows-1252 text",
            hint: "export again with -Encoding UTF8")
    }
}

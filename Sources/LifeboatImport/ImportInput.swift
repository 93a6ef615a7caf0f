import Foundation
import LifeboatJSON

/// Reading an export directory: case-insensitive paths (exports made on Windows are copied
/// everywhere), text in any encoding PowerShell writes, and errors that name the file.
struct ImportInput {
    let root: URL
    /// The newest modification time of the files read, for the snapshot's capture time.
    private(set) var newestFile: Date?

    init(root: URL) {
        self.root = root.standardizedFileURL
    }

    /// A path relative to the input directory, for messages.
    func relative(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let base = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return path.hasPrefix(base) ? String(path.dropFirst(base.count)) : path
    }

    /// The entries of a directory, sorted by name (so imports are deterministic).
    func entries(_ directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { directory.appendingPathComponent($0) }
    }

    func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }

    /// Follows `components` from `base`, matching each name case-insensitively.
    func find(_ components: [String], from base: URL? = nil) -> URL? {
        var current = base ?? root
        for component in components {
            guard let match = entries(current).first(where: { $0.lastPathComponent.caseInsensitiveCompare(component) == .orderedSame }) else {
                return nil
            }
            current = match
        }
        return current
    }

    /// The first of several alternative paths that exists.
    func find(anyOf paths: [[String]], from base: URL? = nil) -> URL? {
        for path in paths {
            if let url = find(path, from: base) { return url }
        }
        return nil
    }

    /// Reads a file as text, noting its modification time.
    mutating func text(_ url: URL) throws(ImportError) -> String {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ImportError(file: relative(url), problem: "cannot be read (\(error.localizedDescription))")
        }
        if let modified = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date {
            newestFile = max(newestFile ?? modified, modified)
        }
        return try TextDecoding.decode(data, file: relative(url))
    }

    /// Reads a JSON file; a syntax error names the file, line and column.
    mutating func json(_ url: URL) throws(ImportError) -> JSONValue {
        let text = try text(url)
        do {
            return try JSONCoding.decode(Data(text.utf8))
        } catch let error as JSONParseError {
            throw ImportError(file: relative(url), line: error.line, column: "column \(error.column)", problem: "not valid JSON: \(error.problem)",
                              hint: "the file may be truncated; use an intact copy of the export")
        } catch {
            throw ImportError(file: relative(url), problem: "not valid JSON (\(error))")
        }
    }

    /// Reads a CSV file.
    mutating func csv(_ url: URL) throws(ImportError) -> CSVTable {
        try CSVTable(text: text(url), file: relative(url))
    }
}

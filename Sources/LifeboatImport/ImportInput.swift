import Foundation
import LifeboatJSON

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
        // A folder reached through a link that leaves the export is never walked (``checkTree()`` refuses it first).
        guard (try? checkContained(url)) != nil else { return false }
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }

    /// Follows `components` from `base`, matching each name case-insensitively.
    func find(_ components: [String], from base: URL? = nil) -> URL? {
        var current = base ?? root
        for component in components {
            guard let match = entries(current).first(where: { $0.lastPathComponent.caseInsensitiveCompare(component) == .orderedSame })
            else {
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

    /// The largest export file read: 1 GiB.
    static let fileLimit = InputFile.defaultLimit
    /// The most entries an export tree may hold (files and folders), and how deep it may go.
    static let entryLimit = 2_000_000, depthLimit = 16

    /// The resolved (real) path of `url`, or nil when it does not resolve.
    static func realPath(_ url: URL) -> String? {
        guard let resolved = realpath(url.path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Refuses a path that resolves outside the export (through a symbolic link anywhere on the way). The target is
    /// not named: the message must not disclose a file of the host.
    func checkContained(_ url: URL) throws(ImportError) {
        guard let base = Self.realPath(root), let resolved = Self.realPath(url) else { return }
        guard resolved == base || resolved.hasPrefix(base.hasSuffix("/") ? base : base + "/") else {
            throw ImportError(
                file: relative(url),
                problem: "is a symbolic link (or lies under one) that leads outside the export directory; it was not followed",
                hint: "copy the files into the export directory instead of linking to them")
        }
    }

    /// Walks the whole export without following links: every symbolic link must stay inside it, and the tree must stay
    /// within ``entryLimit`` entries and ``depthLimit`` levels.
    func checkTree() throws(ImportError) {
        var pending: [(URL, Int)] = [(root, 0)]
        var seen = 0
        while let (directory, depth) = pending.popLast() {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names {
                seen += 1
                guard seen <= Self.entryLimit else {
                    throw ImportError(
                        file: relative(directory), problem: "the export holds more than \(Self.entryLimit) files and folders",
                        hint: "point the import at the export's own directory")
                }
                let url = directory.appendingPathComponent(name)
                var info = stat()
                guard lstat(url.path, &info) == 0 else { continue }
                switch info.st_mode & S_IFMT {
                case S_IFLNK:
                    try checkContained(url)
                case S_IFDIR:
                    guard depth + 1 <= Self.depthLimit else {
                        throw ImportError(
                            file: relative(url), problem: "lies more than \(Self.depthLimit) folders deep in the export",
                            hint: "point the import at the export's own directory")
                    }
                    pending.append((url, depth + 1))
                default: break
                }
            }
        }
    }

    /// Reads a file as text, noting its modification time.
    mutating func text(_ url: URL) throws(ImportError) -> String {
        try checkContained(url)
        let data: Data
        do {
            data = try InputFile.read(url.path, limit: Self.fileLimit)
        } catch {
            throw ImportError(file: relative(url), problem: "cannot be read: it \(error.problem)")
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
            throw ImportError(
                file: relative(url), line: error.line, column: "column \(error.column)", problem: "not valid JSON: \(error.problem)",
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

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an input file was not read: what it is instead of a regular file, or that it is too large.
package struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    package var path: String
    package var problem: String

    package init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    package var description: String { "\(path): \(problem)" }
}

/// Reads input files (runbooks, scenarios, snapshot files, exports) with their kind checked and their size bounded, so
/// `/dev/zero`, a FIFO or a directory is reported as what it is instead of hanging, exhausting memory or being called
/// "missing".
package enum InputFile {
    /// The default limit for one input file: 1 GiB (a 100,000-user snapshot's users.json is about 150 MB).
    package static let defaultLimit = 1 << 30

    /// What is at `path` (following symbolic links), in words, when it is not a regular file; nil for a regular file
    /// or nothing at all.
    package static func nonRegularKind(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return kind(info.st_mode)
    }

    /// Whether `path` (following symbolic links) is a regular file holding at least one byte.
    package static func isNonEmptyRegularFile(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return kind(info.st_mode) == nil && info.st_size > 0
    }

    static func kind(_ mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "not a regular file"
        }
    }

    /// The bytes of the regular file at `path`, at most `limit` of them; throws ``InputFileError`` for anything else.
    package static func read(_ path: String, limit: Int = defaultLimit) throws(InputFileError) -> Data {
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: throw InputFileError(path: path, problem: "does not exist")
            case EACCES, EPERM: throw InputFileError(path: path, problem: "permission denied")
            case ELOOP: throw InputFileError(path: path, problem: "too many levels of symbolic links")
            default: throw InputFileError(path: path, problem: String(cString: strerror(code)))
            }
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw InputFileError(path: path, problem: String(cString: strerror(errno))) }
        if let kind = kind(info.st_mode) { throw InputFileError(path: path, problem: "is \(kind), not a regular file") }
        guard Int(info.st_size) <= limit else {
            throw InputFileError(path: path, problem: "is \(info.st_size) bytes, over the limit of \(limit) bytes for one input file")
        }
        var data = Data(count: Int(info.st_size))
        var offset = 0
        while offset < data.count {
            let count = data.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }  // the file shrank while it was read
            offset += count
        }
        data.count = offset
        // A file that grew while it was read keeps only the bytes up to its size at open; one more byte means it grew.
        var extra: UInt8 = 0
        if withUnsafeMutableBytes(of: &extra, { systemRead(fd, $0.baseAddress!, 1) }) > 0 {
            throw InputFileError(path: path, problem: "changed while it was read; read it again from a stable copy")
        }
        return data
    }
}

private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
        Glibc.read(fd, buffer, count)
    #else
        Darwin.read(fd, buffer, count)
    #endif
}

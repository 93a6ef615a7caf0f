import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why a file that may hold secrets was not opened.
package struct PrivateFileError: Error, CustomStringConvertible, Equatable {
    /// The file.
    package var path: String
    /// What is wrong with it.
    package var problem: String

    package init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    package var description: String {
        "refusing to write secrets to \(path): \(problem) — give a path that does not exist yet (it is created 0600), or a regular file you own with mode 0600"
    }
}

/// Files that may hold secrets (generated passwords, Temporary Access Passes, client secrets, request logs, tokens):
/// readable by their owner only from the first byte.
///
/// A new file is created with `O_CREAT | O_EXCL | O_NOFOLLOW` and mode 0600, so it never exists with wider permissions
/// and never follows a symbolic link planted in its place. An existing file is used only when it is a regular file
/// owned by this user, with mode 0600 and a single link; anything else (a symbolic link, a FIFO, a device, a
/// directory, someone else's or a group-readable file) is refused with a ``PrivateFileError``.
package enum PrivateFile {
    /// Opens `path` for appending: creates it (0600) and writes `header` when it does not exist, otherwise checks it.
    /// Returns the handle and whether the file was created.
    package static func openForAppending(_ path: String, header: Data? = nil) throws -> (handle: FileHandle, created: Bool) {
        // O_NONBLOCK: opening a FIFO must not wait for a reader; it is refused below like any other non-regular file.
        let fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        if fd >= 0 {
            try check(fd, path: path)
            _ = fcntl(fd, F_SETFL, O_WRONLY | O_APPEND)
            return (FileHandle(fileDescriptor: fd, closeOnDealloc: true), false)
        }
        let openError = errno
        guard openError == ENOENT else { throw failure(openError, path: path) }
        let handle = try createExclusively(path)
        if let header, !header.isEmpty { try handle.write(contentsOf: header) }
        return (handle, true)
    }

    /// Creates `path` (0600) with `contents`; refuses when anything already exists there.
    package static func create(_ path: String, contents: Data) throws {
        let handle = try createExclusively(path)
        defer { try? handle.close() }
        try handle.write(contentsOf: contents)
        try handle.synchronize()
    }

    /// Replaces the contents of a private file: an existing one must pass the same checks as for appending (a symbolic
    /// link or someone else's file is refused, not followed); a missing one is created 0600.
    package static func replace(_ path: String, contents: Data) throws {
        let fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let openError = errno
            guard openError == ENOENT else { throw failure(openError, path: path) }
            try create(path, contents: contents)
            return
        }
        try check(fd, path: path)
        _ = fcntl(fd, F_SETFL, O_WRONLY)
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? handle.close() }
        guard ftruncate(fd, 0) == 0 else { throw failure(errno, path: path) }
        try handle.write(contentsOf: contents)
        try handle.synchronize()
    }

    private static func createExclusively(_ path: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(errno, path: path) }
        // The umask can only narrow 0600; this keeps it exactly 0600 if the umask took the owner's write bit.
        _ = fchmod(fd, 0o600)
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Refuses (and closes) a descriptor that is not a private regular file of this user.
    private static func check(_ fd: Int32, path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw failure(code, path: path)
        }
        var problem: String?
        let type = info.st_mode & S_IFMT
        if type != S_IFREG {
            problem = "it is \(FileKind.describe(mode: info.st_mode)), not a regular file"
        } else if info.st_uid != geteuid() {
            problem = "it is owned by uid \(info.st_uid), not by this user (uid \(geteuid()))"
        } else if info.st_mode & 0o777 != 0o600 {
            problem =
                "its mode is \(String(info.st_mode & 0o777, radix: 8)), not 600 (run `chmod 600 \(path)` if it is yours, or remove it)"
        } else if info.st_nlink != 1 {
            problem = "it has \(info.st_nlink) hard links (another name could expose it)"
        }
        if let problem {
            close(fd)
            throw PrivateFileError(path: path, problem: problem)
        }
    }

    private static func failure(_ code: Int32, path: String) -> PrivateFileError {
        switch code {
        case ELOOP: return PrivateFileError(path: path, problem: "it is a symbolic link")
        case EEXIST: return PrivateFileError(path: path, problem: "it already exists (appeared while it was being created)")
        case EISDIR: return PrivateFileError(path: path, problem: "it is a directory")
        case ENXIO: return PrivateFileError(path: path, problem: "it is a FIFO or socket with no reader, not a regular file")
        case EACCES, EPERM: return PrivateFileError(path: path, problem: "permission denied")
        case ENOENT: return PrivateFileError(path: path, problem: "its directory does not exist")
        default: return PrivateFileError(path: path, problem: String(cString: strerror(code)))
        }
    }
}

/// What kind of file a mode describes, in words for error messages.
package enum FileKind {
    package static func describe(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO (named pipe)"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        default: return "a special file"
        }
    }

    /// The kind of the file at `path` (not following a final symbolic link), or nil when nothing is there.
    package static func at(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return describe(mode: info.st_mode)
    }
}

import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One process per run: an exclusive advisory lock on `<checkpoint>.lock`, held for the life of the process.
///
/// The lock is `flock(2)` on an open file: the kernel drops it when the descriptor closes, which includes every way a
/// process can die (SIGKILL, a crash, power loss on reboot), so a stale lock never needs cleaning up. The file itself is
/// never deleted (deleting it would let two processes lock two different files); after locking, the holder writes who it
/// is (pid, host, since when) into it so that a refused process can name the holder.
package final class CheckpointLock: Sendable {
    /// The lock file (`<checkpoint>.lock`).
    package let path: String
    private let descriptor: Int32

    /// Who holds (or last held) a lock.
    package struct Holder: Sendable, Equatable, CustomStringConvertible {
        package var pid: Int32
        package var host: String
        package var since: String

        package var description: String { "process \(pid) on \(host) since \(since)" }

        init?(_ text: String) {
            var fields: [String: String] = [:]
            for line in text.split(whereSeparator: \.isNewline) {
                let parts = line.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
            }
            guard let pid = fields["pid"].flatMap({ Int32($0) }) else { return nil }
            self.pid = pid
            host = fields["host"] ?? "?"
            since = fields["since"] ?? "?"
        }

        package init(pid: Int32, host: String, since: String) {
            self.pid = pid
            self.host = host
            self.since = since
        }
    }

    /// Why a lock was not taken.
    package enum Failure: Error, CustomStringConvertible, Equatable {
        /// Another process holds it; `holder` is nil when it has not yet written who it is.
        case held(checkpoint: String, holder: Holder?)
        /// The lock file could not be opened or locked.
        case unusable(path: String, reason: String)

        package var description: String {
            switch self {
            case .held(let checkpoint, let holder):
                let who = holder.map { "\($0)" } ?? "another process (it is starting up)"
                return
                    "\(checkpoint) is in use by \(who); one process works a run at a time — wait for it to finish or stop it (its checkpoint keeps everything), then run the command again. Nothing was written."
            case .unusable(let path, let reason):
                return "cannot lock \(path): \(reason)"
            }
        }
    }

    /// The lock file's path for a checkpoint database.
    package static func lockPath(forCheckpoint checkpoint: String) -> String { checkpoint + ".lock" }

    /// Takes the lock of the checkpoint at `checkpoint` without waiting, or throws ``Failure/held(checkpoint:holder:)``.
    package init(checkpoint: String, host: String = ProcessInfo.processInfo.hostName, now: Date = Date()) throws {
        path = Self.lockPath(forCheckpoint: checkpoint)
        let fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw Failure.unusable(path: path, reason: errno == ELOOP ? "it is a symbolic link" : reason)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Failure.unusable(path: path, reason: "it is not a regular file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK {
                throw Failure.held(checkpoint: checkpoint, holder: Self.liveHolder(ofCheckpoint: checkpoint, host: host))
            }
            throw Failure.unusable(path: path, reason: String(cString: strerror(code)))
        }
        descriptor = fd
        let formatter = ISO8601DateFormatter()
        let text = "pid=\(getpid())\nhost=\(host)\nsince=\(formatter.string(from: now))\n"
        _ = ftruncate(fd, 0)
        _ = text.utf8CString.withUnsafeBufferPointer { pwrite(fd, $0.baseAddress, $0.count - 1, 0) }
        _ = fsync(fd)
    }

    deinit {
        // Closing the descriptor releases the lock; the file stays (see the type's documentation).
        close(descriptor)
    }

    /// The holder as it names itself: a process that has just taken the lock writes its name a moment later, so an
    /// empty file or the name of a dead process on this host is read again for up to half a second.
    static func liveHolder(ofCheckpoint checkpoint: String, host: String) -> Holder? {
        for _ in 0..<50 {
            if let named = holder(ofCheckpoint: checkpoint), named.host != host || kill(named.pid, 0) == 0 || errno == EPERM {
                return named
            }
            usleep(10_000)
        }
        return nil
    }

    /// Who last wrote the lock file of `checkpoint` (the holder while it is locked), if anyone.
    package static func holder(ofCheckpoint checkpoint: String) -> Holder? {
        let fd = open(lockPath(forCheckpoint: checkpoint), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }
        return Holder(String(decoding: buffer[..<count], as: UTF8.self))
    }
}

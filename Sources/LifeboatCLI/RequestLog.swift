import Foundation
import LifeboatEngine
import Logging
import Synchronization

/// A swift-log handler that appends one line per message to a file (the `--log` of live commands).
/// GraphClient redacts tokens, secrets and passwords before anything reaches a handler.
struct FileLogHandler: LogHandler {
    private final class Sink: Sendable {
        let handle: FileHandle
        let lock = Mutex(())
        init(_ handle: FileHandle) { self.handle = handle }
        func write(_ line: String) { lock.withLock { _ in handle.write(Data(line.utf8)) } }
    }

    private let sink: Sink
    private let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    /// Opens `path` for appending, creating it 0600 from its first byte (a request log names every object of the
    /// tenant); an existing log must be a regular file of this user with mode 0600 (``PrivateFile``).
    static func open(_ path: String, level: Logger.Level, label: String = "lifeboat.graph") throws -> Logger {
        let handle = try PrivateFile.openForAppending(path).handle
        let sink = Sink(handle)
        var logger = Logger(label: label) { label in FileLogHandler(sink: sink, label: label, logLevel: level) }
        logger.logLevel = level
        return logger
    }

    private init(sink: Sink, label: String, logLevel: Logger.Level) {
        self.sink = sink
        self.label = label
        self.logLevel = logLevel
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: true))
        sink.write("\(time) \(event.level) \(event.message)\(fields.isEmpty ? "" : " " + fields)\n")
    }
}

import CLifeboatCurl
import Foundation
import LifeboatGraph
import Synchronization

/// Why ``CurlTransport`` refused a request without sending anything.
package struct TransportRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong with the request.
    package var reason: String

    package init(_ reason: String) { self.reason = reason }

    package var description: String { "request refused before sending: \(reason)" }
}

/// The live transport: HTTPS to Microsoft Graph and the sign-in service through libcurl.
///
/// One libcurl multi handle, driven by a dedicated thread (never a thread of the cooperative
/// pool), carries every transfer, so connections are reused and multiplexed over HTTP/2 where
/// the server offers it. Responses are decompressed (gzip, deflate, brotli, zstd, as libcurl
/// was built). TLS peer and host verification are always on; plain `http://` is refused except
/// to a loopback address. Proxies come from libcurl's standard environment variables
/// (`https_proxy`, `HTTPS_PROXY`, `no_proxy`, …), which nothing here overrides, except that
/// loopback addresses are always reached directly.
///
/// Failures map to ``TransportFailure``: ``TransportFailure/notSent(_:)`` only when libcurl
/// failed before anything could have reached the server (name resolution, connect, TLS
/// handshake, certificate verification); every other failure, timeouts included, is
/// ``TransportFailure/noResponse(_:)`` because the request may have been applied.
package final class CurlTransport: HTTPTransport, Sendable {
    /// How the transport connects.
    package struct Configuration: Sendable {
        /// A PEM file of trusted certificate authorities instead of the system's.
        package var caBundlePath: String?
        /// Seconds allowed for name resolution, TCP and TLS (capped by each request's timeout).
        package var connectTimeout: Double
        /// Most connections kept open to one host (0: libcurl's default).
        package var maxConnectionsPerHost: Int
        /// Sent as `User-Agent`.
        package var userAgent: String

        package init(
            caBundlePath: String? = nil, connectTimeout: Double = 30, maxConnectionsPerHost: Int = 8, userAgent: String = "lifeboat"
        ) {
            self.caBundlePath = caBundlePath
            self.connectTimeout = connectTimeout
            self.maxConnectionsPerHost = maxConnectionsPerHost
            self.userAgent = userAgent
        }
    }

    package let configuration: Configuration
    private let loop: CurlMultiLoop
    private let nextID = Mutex<UInt64>(0)

    private static let globalInit: Bool = curl_global_init(lifeboat_curl_global_default) == CURLE_OK

    /// Starts the transfer thread.
    package init(configuration: Configuration = Configuration()) throws {
        guard Self.globalInit else { throw TransportRefusal("libcurl could not be initialised") }
        if let path = configuration.caBundlePath, !FileManager.default.isReadableFile(atPath: path) {
            throw TransportRefusal("the CA bundle \(path) cannot be read")
        }
        self.configuration = configuration
        loop = try CurlMultiLoop(maxConnectionsPerHost: configuration.maxConnectionsPerHost)
    }

    deinit { loop.stop() }

    /// Stops the transfer thread; transfers still in flight end with ``TransportFailure/noResponse(_:)``.
    package func close() { loop.stop() }

    /// New connections libcurl opened so far (a reused connection adds nothing).
    package var connectionsOpened: Int { loop.connectionsOpened }

    /// Sends one request; throws ``TransportFailure`` or ``TransportRefusal``.
    package func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try Self.check(url: request.url)
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let transfer = try CurlTransfer(id: id, request: request, configuration: configuration)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                loop.enqueue(transfer)
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Refuses anything but `https://`, and `http://` to 127.0.0.0/8, `::1` or `localhost`.
    package static func check(url text: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else { throw TransportRefusal("\(text) is not an absolute URL") }
        switch scheme {
        case "https":
            return
        case "http":
            guard isLoopback(host: host) else {
                throw TransportRefusal("plain http:// is only allowed to a loopback address, not to \(host)")
            }
        default:
            throw TransportRefusal("the scheme \(scheme) is not supported")
        }
    }

    /// `true` for `localhost`, 127.0.0.0/8 and `::1`.
    package static func isLoopback(host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if bare == "localhost" || bare == "::1" || bare == "0:0:0:0:0:0:0:1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.allSatisfy({ UInt8($0) != nil }) else { return false }
        return octets[0] == "127"
    }
}

// MARK: - One transfer

/// An easy handle and what it has received; touched by the sending task until it is enqueued,
/// then only by the loop thread.
final class CurlTransfer: @unchecked Sendable {
    let id: UInt64
    let easy: UnsafeMutableRawPointer
    let method: String
    var continuation: CheckedContinuation<HTTPResponse, any Error>?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var received = Data()
    var headers: [String: String] = [:]

    init(id: UInt64, request: HTTPRequest, configuration: CurlTransport.Configuration) throws {
        guard let easy = curl_easy_init() else { throw TransportFailure.notSent("libcurl could not create a transfer") }
        self.id = id
        self.easy = easy
        self.method = request.method.uppercased()
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        do {
            try configure(request, configuration)
        } catch {
            release()
            throw error
        }
    }

    private func set(_ option: CURLoption, _ value: Int) throws {
        try check(lifeboat_curl_easy_setopt_long(easy, option, value), option)
    }

    private func set(_ option: CURLoption, _ value: String) throws {
        try check(value.withCString { lifeboat_curl_easy_setopt_string(easy, option, $0) }, option)
    }

    private func check(_ code: CURLcode, _ option: CURLoption) throws {
        guard code == CURLE_OK else {
            throw TransportFailure.notSent("libcurl refused option \(option.rawValue): \(String(cString: curl_easy_strerror(code)))")
        }
    }

    private func configure(_ request: HTTPRequest, _ configuration: CurlTransport.Configuration) throws {
        try set(CURLOPT_URL, request.url)
        if let host = URLComponents(string: request.url)?.host, CurlTransport.isLoopback(host: host) {
            // Loopback never goes through a proxy, whatever https_proxy says; other hosts keep the environment's.
            try set(CURLOPT_PROXY, "")
        }
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "https,http")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "https")
        try set(CURLOPT_FOLLOWLOCATION, 0)
        try set(CURLOPT_SSL_VERIFYPEER, 1)
        try set(CURLOPT_SSL_VERIFYHOST, 2)
        if let bundle = configuration.caBundlePath { try set(CURLOPT_CAINFO, bundle) }
        try set(CURLOPT_HTTP_VERSION, lifeboat_curl_http_version_2tls)
        try set(CURLOPT_ACCEPT_ENCODING, "")
        try set(CURLOPT_TCP_KEEPALIVE, 1)
        try set(CURLOPT_USERAGENT, configuration.userAgent)
        let timeout = max(1, Int((request.timeout * 1000).rounded()))
        try set(CURLOPT_TIMEOUT_MS, timeout)
        try set(CURLOPT_CONNECTTIMEOUT_MS, min(timeout, max(1, Int(configuration.connectTimeout * 1000))))
        try check(lifeboat_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), CURLOPT_ERRORBUFFER)

        // Headers; "Expect:" stops libcurl from waiting for a 100-continue before large bodies.
        var lines = ["Expect:"]
        for (name, value) in request.headers.sorted(by: { $0.key < $1.key }) {
            guard !name.contains(where: { $0 == "\r" || $0 == "\n" || $0 == ":" }),
                !value.contains(where: { $0 == "\r" || $0 == "\n" })
            else { throw TransportRefusal("header \(name) contains a line break") }
            lines.append(value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        for line in lines {
            guard let appended = curl_slist_append(headerList, line) else {
                throw TransportFailure.notSent("libcurl could not store a header")
            }
            headerList = appended
        }
        try check(lifeboat_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), CURLOPT_HTTPHEADER)

        switch method {
        case "GET":
            try set(CURLOPT_HTTPGET, 1)
        case "HEAD":
            try set(CURLOPT_NOBODY, 1)
        case "POST":
            try set(CURLOPT_POST, 1)
        default:
            try set(CURLOPT_CUSTOMREQUEST, method)
        }
        if let body = request.body ?? (method == "POST" ? Data() : nil) {
            try check(
                lifeboat_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), CURLOPT_POSTFIELDSIZE_LARGE)
            // COPYPOSTFIELDS copies POSTFIELDSIZE bytes; an empty body still needs a valid pointer.
            let code =
                body.isEmpty
                ? lifeboat_curl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
                : body.withUnsafeBytes { bytes in
                    lifeboat_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
            try check(code, CURLOPT_COPYPOSTFIELDS)
        }

        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(
            lifeboat_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                if let data, length > 0 {
                    data.withMemoryRebound(to: UInt8.self, capacity: length) { transfer.received.append($0, count: length) }
                }
                return length
            }, CURLOPT_WRITEFUNCTION)
        try check(lifeboat_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context), CURLOPT_WRITEDATA)
        try check(
            lifeboat_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
                let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                if let data, length > 0 {
                    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) {
                        String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                    }
                    transfer.receivedHeaderLine(line)
                }
                return length
            }, CURLOPT_HEADERFUNCTION)
        try check(lifeboat_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context), CURLOPT_HEADERDATA)
    }

    /// Collects one header line; a status line (a new, or interim, response) starts over.
    func receivedHeaderLine(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = trimmed[..<colon].lowercased()
        let value = trimmed[trimmed.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if let existing = headers[name] {
            headers[name] = existing + ", " + value
        } else {
            headers[name] = value
        }
    }

    /// The response, or the failure, once libcurl reports the transfer done.
    func outcome(_ code: CURLcode) -> Result<HTTPResponse, any Error> {
        if code == CURLE_OK {
            var status = 0
            _ = lifeboat_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
            return .success(HTTPResponse(status: status, headers: headers, body: received))
        }
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return .failure(Self.failure(for: code, message: "\(message) (curl \(code.rawValue))"))
    }

    /// Codes after which nothing can have reached the server; anything else may have been applied.
    private static let beforeSending: Set<UInt32> = [
        CURLE_UNSUPPORTED_PROTOCOL, CURLE_FAILED_INIT, CURLE_URL_MALFORMAT, CURLE_NOT_BUILT_IN,
        CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
        CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
        CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
        CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT,
    ].reduce(into: Set<UInt32>()) { $0.insert($1.rawValue) }

    static func failure(for code: CURLcode, message: String) -> TransportFailure {
        beforeSending.contains(code.rawValue) ? .notSent(message) : .noResponse(message)
    }

    /// New connections this transfer opened.
    var connectsOpened: Int {
        var count = 0
        _ = lifeboat_curl_easy_getinfo_long(easy, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    /// Resumes the waiting task once.
    func finish(_ result: Result<HTTPResponse, any Error>) {
        let waiting = continuation
        continuation = nil
        waiting?.resume(with: result)
    }

    /// Frees the easy handle (after it left the multi handle) and the header list.
    func release() {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        headerList = nil
        errorBuffer.deallocate()
    }
}

// MARK: - The loop thread

/// The multi handle and the thread that drives it. Other threads only touch ``inbox`` (under
/// its lock) and call `curl_multi_wakeup`, which libcurl documents as thread-safe.
final class CurlMultiLoop: @unchecked Sendable {
    private struct Inbox {
        var additions: [CurlTransfer] = []
        var cancellations: Set<UInt64> = []
        /// Transfers enqueued and not yet finished.
        var live: Set<UInt64> = []
        var stopping = false
        var stopped = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let opened = Mutex(0)
    private let done = DispatchSemaphore(value: 0)
    /// Loop thread only.
    private var active: [UInt64: CurlTransfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(maxConnectionsPerHost: Int) throws {
        guard let multi = curl_multi_init() else { throw TransportFailure.notSent("libcurl could not create a multi handle") }
        self.multi = multi
        _ = lifeboat_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, lifeboat_curlpipe_multiplex)
        if maxConnectionsPerHost > 0 {
            _ = lifeboat_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, maxConnectionsPerHost)
        }
        let thread = Thread { [self] in run() }
        thread.name = "lifeboat.curl"
        thread.start()
    }

    var connectionsOpened: Int { opened.withLock { $0 } }

    /// Hands a configured transfer to the loop, or fails it at once if the task is already cancelled
    /// or the loop stopped. The check and the hand-over happen under the lock that ``cancel(_:)`` takes.
    func enqueue(_ transfer: CurlTransfer) {
        let accepted: Result<Void, TransportFailure> = inbox.withLock { inbox in
            if inbox.stopping { return .failure(.notSent("the transport is closed")) }
            if Task.isCancelled { return .failure(.notSent("cancelled before sending")) }
            inbox.live.insert(transfer.id)
            inbox.additions.append(transfer)
            return .success(())
        }
        switch accepted {
        case .success:
            curl_multi_wakeup(multi)
        case .failure(let failure):
            transfer.release()
            transfer.finish(.failure(failure))
        }
    }

    func cancel(_ id: UInt64) {
        let wake = inbox.withLock { inbox in
            guard inbox.live.contains(id) else { return false }
            inbox.cancellations.insert(id)
            return true
        }
        if wake { curl_multi_wakeup(multi) }
    }

    /// Asks the loop to stop and waits for it (not when called on the loop thread itself).
    func stop() {
        let first = inbox.withLock { inbox in
            defer { inbox.stopping = true }
            return !inbox.stopping
        }
        guard first else { return }
        curl_multi_wakeup(multi)
        if Thread.current.name != "lifeboat.curl" { done.wait() }
    }

    private func run() {
        var stopping = false
        while !stopping {
            let (additions, cancellations, stop) = inbox.withLock { inbox in
                defer {
                    inbox.additions = []
                    inbox.cancellations = []
                }
                return (inbox.additions, inbox.cancellations, inbox.stopping)
            }
            stopping = stop
            for transfer in additions {
                let code = curl_multi_add_handle(multi, transfer.easy)
                if code == CURLM_OK {
                    active[transfer.id] = transfer
                    byHandle[transfer.easy] = transfer
                } else {
                    complete(
                        transfer, .failure(TransportFailure.notSent("libcurl refused the transfer (\(code.rawValue))")), inMulti: false)
                }
            }
            for id in cancellations {
                if let transfer = active[id] {
                    complete(transfer, .failure(TransportFailure.noResponse("cancelled while in flight")), inMulti: true)
                }
            }
            if stopping { break }

            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                    let transfer = byHandle[easy]
                else { continue }
                let code = message.pointee.data.result
                opened.withLock { $0 += transfer.connectsOpened }
                complete(transfer, transfer.outcome(code), inMulti: true)
            }
            var ready: Int32 = 0
            _ = curl_multi_poll(multi, nil, 0, 1000, &ready)
        }
        for transfer in Array(active.values) {
            complete(transfer, .failure(TransportFailure.noResponse("the transport was closed")), inMulti: true)
        }
        let leftovers = inbox.withLock { inbox in
            defer { inbox.additions = []; inbox.stopped = true }
            return inbox.additions
        }
        for transfer in leftovers {
            complete(transfer, .failure(TransportFailure.notSent("the transport was closed")), inMulti: false)
        }
        curl_multi_cleanup(multi)
        done.signal()
    }

    private func complete(_ transfer: CurlTransfer, _ result: Result<HTTPResponse, any Error>, inMulti: Bool) {
        if inMulti { curl_multi_remove_handle(multi, transfer.easy) }
        active[transfer.id] = nil
        byHandle[transfer.easy] = nil
        inbox.withLock { _ = $0.live.remove(transfer.id) }
        transfer.release()
        transfer.finish(result)
    }
}

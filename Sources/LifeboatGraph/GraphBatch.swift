import Foundation
import LifeboatJSON

extension GraphClient {
    /// Most requests Graph accepts in one `$batch`.
    package static let batchLimit = 20

    /// Sends requests through `POST /$batch`, at most 20 per batch, and returns one result per
    /// request, in the order given.
    ///
    /// Inner responses are matched by id whatever their order. An inner 429 is retried on its
    /// own after the inner Retry-After (reads and writes: a throttled request was not applied);
    /// an inner 5xx, or a missing inner response, is retried for reads and is
    /// ``GraphError/Kind/ambiguous`` for writes, exactly like a direct request. Batching saves
    /// round trips, not quota: with a governor, every inner request is admitted, and a batch holds at most one
    /// request to each endpoint the governor paces at its own limit (Conditional Access: 1 request per second,
    /// throttling-limits.md), sent no sooner than that pace allows.
    package func batch(_ requests: [GraphRequest]) async -> [Result<GraphResponse, GraphError>] {
        var results = [Result<GraphResponse, GraphError>?](repeating: nil, count: requests.count)
        var throttled = [Int](repeating: 0, count: requests.count)
        var transient = [Int](repeating: 0, count: requests.count)
        var pending: [Int] = []
        for index in requests.indices {
            do {
                try Self.checkPath(requests[index])
                pending.append(index)
            } catch {
                results[index] = .failure(error)
            }
        }
        var round = 0
        while !pending.isEmpty {
            round += 1
            var again: [Int] = []
            var wait = 0.0
            var throttledRound = false
            var throttleScope: String?
            var answeredAt: Date?
            for chunk in chunks(pending, of: requests) {
                let outcome = await sendBatch(chunk.map { (String($0 + 1), requests[$0]) })
                if answeredAt == nil { answeredAt = await clock.now() }
                switch outcome {
                case .failure(let error):
                    for index in chunk {
                        let request = requests[index]
                        var failure = error
                        failure.method = request.method
                        failure.path = request.path
                        if !request.isWrite, error.isTransient || error.kind == .ambiguous,
                            transient[index] + 1 < retry.maxTransientAttempts
                        {
                            transient[index] += 1
                            again.append(index)
                            wait = max(wait, error.retryAfter ?? retry.backoff(attempt: transient[index]))
                        } else {
                            results[index] = .failure(failure)
                        }
                    }
                case .success(let responses):
                    var throttleWait: Double?
                    for index in chunk {
                        let request = requests[index]
                        guard let response = responses[String(index + 1)] else {
                            if request.isWrite {
                                results[index] = .failure(
                                    GraphError(
                                        kind: .ambiguous, status: 0, code: "MissingBatchResponse",
                                        message: "the batch answered without this request", method: request.method, path: request.path))
                            } else if transient[index] + 1 < retry.maxTransientAttempts {
                                transient[index] += 1
                                again.append(index)
                            } else {
                                results[index] = .failure(
                                    GraphError(
                                        kind: .malformedResponse, status: 0, code: "MissingBatchResponse",
                                        message: "the batch answered without this request", method: request.method, path: request.path))
                            }
                            continue
                        }
                        if (200..<300).contains(response.status) {
                            let body = response.body.isEmpty ? nil : try? JSONCoding.decode(response.body)
                            results[index] = .success(GraphResponse(status: response.status, headers: response.headers, body: body))
                            continue
                        }
                        let error = GraphError.from(response: response, method: request.method, path: request.path)
                        let isServerError = [500, 502, 503, 504].contains(response.status)
                        if response.status == 429, throttled[index] + 1 < retry.maxThrottledAttempts {
                            throttled[index] += 1
                            again.append(index)
                            throttleWait = max(throttleWait ?? 0, error.retryAfter ?? retry.backoff(attempt: throttled[index]))
                            throttleScope = throttleScope ?? response.headers["x-ms-throttle-scope"]
                        } else if isServerError, request.isWrite {
                            var ambiguous = error
                            ambiguous.kind = .ambiguous
                            results[index] = .failure(ambiguous)
                        } else if isServerError, transient[index] + 1 < retry.maxTransientAttempts {
                            transient[index] += 1
                            again.append(index)
                            wait = max(wait, error.retryAfter ?? retry.backoff(attempt: transient[index]))
                        } else {
                            results[index] = .failure(error)
                        }
                    }
                    if let throttleWait {
                        if let governor {
                            // One pause for every request, not one per throttled inner request.
                            await governor.throttled(retryAfter: throttleWait)
                        } else {
                            wait = max(wait, throttleWait)
                            throttledRound = true
                        }
                    }
                }
            }
            pending = again.sorted()
            if !pending.isEmpty, wait > 0 {
                do {
                    try await WaitReason.$current.withValue(throttledRound ? .throttling : .retry) {
                        try await ThrottleScope.$current.withValue(throttledRound ? throttleScope : nil) {
                            // Counted from the round's first answer, as Retry-After is.
                            let since: Date
                            if let answeredAt { since = answeredAt } else { since = await clock.now() }
                            try await clock.sleep(until: since.addingTimeInterval(wait))
                        }
                    }
                } catch {
                    for index in pending {
                        results[index] = .failure(
                            GraphError(
                                kind: .notSent, status: 0, code: "Cancelled", message: "stopped while waiting to retry",
                                method: requests[index].method, path: requests[index].path))
                    }
                    pending = []
                }
            }
        }
        return results.enumerated().map { index, result in
            result
                ?? .failure(
                    GraphError(
                        kind: .notSent, status: 0, code: "NotSent", message: "not sent",
                        method: requests[index].method, path: requests[index].path))
        }
    }

    /// `pending` (indices into `requests`) in batches of at most ``batchLimit``, each with at most one request to each
    /// endpoint the governor paces at its own limit: requests in one batch reach Graph together.
    func chunks(_ pending: [Int], of requests: [GraphRequest]) -> [[Int]] {
        let limits = governor?.configuration.endpointLimits ?? []
        guard !limits.isEmpty else {
            return stride(from: 0, to: pending.count, by: Self.batchLimit).map {
                Array(pending[$0..<min($0 + Self.batchLimit, pending.count)])
            }
        }
        var chunks: [[Int]] = []
        var open: [(indices: [Int], endpoints: Set<String>)] = []
        for index in pending {
            let endpoint = limits.first { $0.matches(requests[index].path) }?.name
            if let slot = open.firstIndex(where: { $0.indices.count < Self.batchLimit && !(endpoint.map($0.endpoints.contains) ?? false) })
            {
                open[slot].indices.append(index)
                if let endpoint { open[slot].endpoints.insert(endpoint) }
            } else {
                open.append(([index], endpoint.map { [$0] } ?? []))
            }
            if let full = open.firstIndex(where: { $0.indices.count == Self.batchLimit }) { chunks.append(open.remove(at: full).indices) }
        }
        return chunks + open.map(\.indices)
    }

    /// One `POST /$batch`: the inner responses by id, or why the batch as a whole failed.
    private func sendBatch(_ items: [(id: String, request: GraphRequest)]) async -> Result<[String: HTTPResponse], GraphError> {
        var entries: [JSONValue] = []
        var cost = RequestCost(resourceUnits: 0, writes: 0)
        for (id, request) in items {
            var entry: JSONObject = [
                "id": .string(id),
                "method": .string(request.method),
                "url": .string(Self.encode(path: request.path, query: request.query)),
            ]
            var headers = request.headers
            if let body = request.body {
                headers["Content-Type"] = "application/json"
                entry["body"] = body
            }
            if !headers.isEmpty { entry["headers"] = .object(headers.mapValues { .string($0) }) }
            entries.append(.object(entry))
            cost = cost + RequestCost.estimate(request)
        }
        let outer = GraphRequest("POST", "/$batch", body: ["requests": .array(entries)])
        let response: GraphResponse
        do {
            response = try await send(outer, url: baseURL + "/$batch", cost: cost, innerPaths: items.map(\.request.path))
        } catch let error as GraphError {
            return .failure(error)
        } catch {
            return .failure(
                GraphError(kind: .notSent, status: 0, code: "TransportFailure", message: "\(error)", method: "POST", path: "/$batch"))
        }
        guard let inner = response.object["responses"]?.arrayValue else {
            return .failure(
                GraphError(
                    kind: .malformedResponse, status: response.status, code: "MalformedResponse",
                    message: "the $batch answer has no responses", requestID: response.headers["request-id"],
                    method: "POST", path: "/$batch"))
        }
        var byID: [String: HTTPResponse] = [:]
        for item in inner {
            guard let id = item["id"]?.stringValue, let status = item["status"]?.numberValue else { continue }
            var headers: [String: String] = [:]
            for (name, value) in item["headers"]?.objectValue ?? [:] {
                headers[name] = value.stringValue ?? value.numberValue.map { String(Int($0)) }
            }
            let body = item["body"].map { (try? JSONCoding.encode($0)) ?? Data() } ?? Data()
            byID[id] = HTTPResponse(status: Int(status), headers: headers, body: body)
        }
        return .success(byID)
    }
}

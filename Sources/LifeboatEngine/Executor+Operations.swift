import Foundation
import LifeboatGraph
import LifeboatRunbook

// How the executor performs one stage's operations: reconcile what a crash left in flight, then write in windows.
extension Executor {
    /// Reconciles operations left in `sent`, then performs pending ones in windows; returns the number that failed
    /// and the ID-map rows committed, in commit order.
    func runOperations(
        of stage: Runbook.Stage, kind: any StageKind, context: StageContext,
        planned: [PlannedOperation]?
    ) async throws -> (failed: Int, mappings: [IDMapEntry]) {
        var mappings: [IDMapEntry] = []
        func committed(_ completions: [CheckpointStore.Completion]) {
            for case .succeeded(_, _, let mapping?) in completions { mappings.append(mapping) }
        }
        let counts = try await store.operationCounts(stageID: stage.id)
        let total = counts.values.reduce(0, +)
        var finished = counts[.done, default: 0] + counts[.skipped, default: 0]
        observer?.report(.stageStarted(id: stage.id, title: stage.title, total: total))

        // A crash may have left writes whose outcome is unknown. Each is looked up first (a miss waits out Graph's list lag
        // before it is taken as absent, and only then written again), but the stage's other writes do not wait for those
        // look-ups: no operation of a stage reads another's result (the ID map the stage sees was read when it started),
        // and the stage ends, and the stages after it start, only once every one of them is settled.
        let unknown = try await store.operations(stageID: stage.id, state: .sent).map(\.planned)
        if !unknown.isEmpty {
            try await store.append(.operationsReconciling(stageID: stage.id, operations: unknown.count), simulated: await simulatedNow())
        }
        let pending: [PlannedOperation]
        if let planned {
            pending = planned
        } else {
            pending = try await store.operations(stageID: stage.id, state: .pending).map(\.planned)
        }
        let window = max(1, options.concurrency * options.windowPerSlot)
        let batches = stride(from: 0, to: pending.count, by: window).map { Array(pending[$0..<min($0 + window, pending.count)]) }
        // Windows are pipelined: while window k is in flight, the checkpoint commits window k-1's results and window k+1's
        // intents, so the checkpoint's writes overlap the target's. Every write still has its intent committed before it is
        // sent, and every result is committed after the target made it durable (commitTarget).
        let stageID = stage.id
        @Sendable func bookkeep(results: [CheckpointStore.Completion]?, intents: [PlannedOperation]?) async throws {
            if let results {
                try await options.commitTarget?()
                try await store.recordCompletions(results, stageID: stageID, simulatedSeconds: await simulatedNow())
            }
            if let intents, kind.writesToTarget {
                try await store.recordIntents(intents.map(\.key), stageID: stageID, simulatedSeconds: await simulatedNow())
            }
        }
        func recorded(_ completions: [CheckpointStore.Completion]) async {
            committed(completions)
            await crashIfDue(.result, stage: stageID, passed: completions.count)
            finished += completions.filter { if case .succeeded = $0 { true } else { false } }.count
            observer?.report(.operations(id: stageID, finished: finished, total: total))
        }
        if let first = batches.first, options.stop?.isRequested != true {
            try await bookkeep(results: nil, intents: first)
        }
        // Started once the first window's intents are committed, so that window is not kept waiting for the CPU. Their
        // writes were sent by an earlier process: any listing from now on can show them.
        let resumedAt = await graph.clock.now()
        async let settled: [CheckpointStore.Completion] =
            unknown.isEmpty
            ? []
            : concurrently(unknown) { op in
                await self.execute(op, kind: kind, context: context, outcomeUnknown: true, sentBefore: resumedAt)
            }
        var previous: [CheckpointStore.Completion]?
        for (number, batch) in batches.enumerated() {
            try Task.checkCancellation()
            if options.stop?.isRequested == true {
                // Its intents are committed but nothing of it was sent: it goes back to pending, not to "in flight".
                try await store.withdrawIntents(batch.map(\.key), stageID: stageID)
                break
            }
            await crashIfDue(.intent, stage: stageID, passed: batch.count)
            let results = previous, intents = number + 1 < batches.count ? batches[number + 1] : nil
            async let bookkeeping: Void = bookkeep(results: results, intents: intents)
            let completions = await concurrently(batch) { op in
                let completion = await self.execute(op, kind: kind, context: context)
                await self.crashIfDue(.response, stage: stageID, passed: 1)
                return completion
            }
            try await bookkeeping
            if let previous { await recorded(previous) }
            previous = completions
        }
        if let previous {
            try await bookkeep(results: previous, intents: nil)
            await recorded(previous)
        }
        // Never cancelled: a look-up cut short proves nothing, and its operation would stay in flight (`sent`) anyway.
        let settledCompletions = await settled
        if !settledCompletions.isEmpty {
            try await bookkeep(results: settledCompletions, intents: nil)
            await recorded(settledCompletions)
        }
        return (try await store.operationCounts(stageID: stage.id)[.failed, default: 0], mappings)
    }

    /// Performs one operation, reconciling after an ambiguous failure and retrying replication lag. `outcomeUnknown`: an
    /// earlier process sent its write and died before the result was recorded, so it is looked up before anything is sent.
    private func execute(
        _ op: PlannedOperation, kind: any StageKind, context: StageContext,
        outcomeUnknown unknownAtStart: Bool = false, sentBefore resumedAt: Date? = nil
    ) async -> CheckpointStore.Completion {
        // An object an earlier stage already restored (from the recycle bin, or found in place) is not created again.
        if op.objectType != nil, let existing = context.idMap.entry(for: op.sourceID), existing.stageID != context.stage.id {
            return .succeeded(
                op,
                OperationOutcome(.unchanged, newID: existing.newID, note: "already \(existing.how.rawValue) by stage \(existing.stageID)"),
                mapping: nil)
        }
        if !mode.writesToTarget { return await dryRun(op, kind: kind, context: context) }
        var lastError: GraphError?
        // Set while an earlier attempt's write may have landed and no look-up has settled whether it did: the next
        // attempt must not write before a look-up that waits out Graph's list lag finds nothing (a look-up that failed,
        // e.g. while the target was unreachable, proves nothing).
        var outcomeUnknown = unknownAtStart
        // A moment by which the write whose outcome is unknown had been sent (``Reconciliation/sentBefore``).
        var sentBefore = resumedAt
        var lookupFailure: (code: String, message: String, requestID: String?)?
        for attempt in 1...options.maxAttempts {
            do {
                if outcomeUnknown {
                    switch await Reconciliation.$afterUnknownOutcome.withValue(
                        true,
                        operation: {
                            await Reconciliation.$sentBefore.withValue(sentBefore) { await reconcile(op, kind: kind, context: context) }
                        })
                    {
                    case .succeeded(let op, let outcome, let mapping):
                        return .succeeded(op, outcome, mapping: mapping)
                    case .notApplied(let op):
                        outcomeUnknown = false
                        // Settled as never applied: with a stop requested it waits, pending, for the next run.
                        if options.stop?.isRequested == true { return .notApplied(op) }
                    case .failed(_, let code, let message, let requestID):
                        lookupFailure = (code, message, requestID)
                        await backOff(attempt: attempt, since: nil)
                        continue
                    }
                }
                let sender = GraphApp.Used()
                var outcome = try await GraphApp.Used.$current.withValue(sender) { try await kind.perform(op, in: context) }
                outcome.app = outcome.app ?? sender.name
                return .succeeded(op, outcome, mapping: mapping(op, outcome, stage: context.stage.id))
            } catch let error as GraphError {
                lastError = error
                if error.kind == .ambiguous {
                    // The write may have landed: the next attempt looks it up first and adopts it if it did.
                    outcomeUnknown = true
                    sentBefore = await graph.clock.now()
                } else if error.isTransient || error.isNotFound {
                    // Graph is eventually consistent: just-created references can be invisible for seconds.
                    await backOff(attempt: attempt, since: error.answeredAt)
                } else {
                    return .failed(op, code: error.code, message: error.message, requestID: error.requestID)
                }
            } catch let error as StageOperationError {
                return .failed(op, code: error.code, message: error.message, requestID: nil)
            } catch {
                return .failed(op, code: "Error", message: "\(error)", requestID: nil)
            }
        }
        if outcomeUnknown {
            // Recorded as failed, but resumed as a write in flight: `retryFailed` puts it back to `sent`, so the next run
            // looks it up before anything is written again.
            return .failed(
                op, code: CheckpointStore.outcomeUnknownCode,
                message:
                    "the write may have landed but could not be looked up (\(lookupFailure?.code ?? lastError?.code ?? "Error"): \(lookupFailure?.message ?? lastError?.message ?? "gave up")); a resume looks it up before writing again",
                requestID: lookupFailure?.requestID ?? lastError?.requestID)
        }
        return .failed(
            op, code: lastError?.code ?? "Error", message: (lastError?.message ?? "gave up") + " (after \(options.maxAttempts) attempts)",
            requestID: lastError?.requestID)
    }

    /// Looks the operation's object up without writing: found → adopted into this dry run's ID map, else "would write".
    private func dryRun(_ op: PlannedOperation, kind: any StageKind, context: StageContext) async -> CheckpointStore.Completion {
        // A dry run writes nothing: a listing made at any moment of it shows the target as every look-up of it would.
        switch await Reconciliation.$sentBefore.withValue(.distantPast, operation: { await reconcile(op, kind: kind, context: context) }) {
        case .succeeded(let op, let outcome, let mapping):
            return .succeeded(op, outcome, mapping: mapping)
        case .failed(let op, let code, let message, _):
            return .succeeded(
                op, OperationOutcome(.skipped, note: "dry run: would write; the target could not be checked (\(code): \(message))"),
                mapping: nil)
        case .notApplied(let op):
            return .succeeded(op, OperationOutcome(.skipped, note: "dry run: would write"), mapping: nil)
        }
    }

    private func reconcile(_ op: PlannedOperation, kind: any StageKind, context: StageContext) async -> CheckpointStore.Completion {
        for attempt in 1...options.maxAttempts {
            do {
                if let outcome = try await kind.reconcile(op, in: context) {
                    return .succeeded(op, outcome, mapping: mapping(op, outcome, stage: context.stage.id))
                }
                return .notApplied(op)
            } catch let error as GraphError where error.isTransient {
                await backOff(attempt: attempt, since: error.answeredAt)
            } catch let error as GraphError {
                return .failed(op, code: error.code, message: "reconciliation failed: \(error.message)", requestID: error.requestID)
            } catch {
                return .failed(op, code: "Error", message: "reconciliation failed: \(error)", requestID: nil)
            }
        }
        return .failed(op, code: "ReconciliationFailed", message: "could not look the object up in the target", requestID: nil)
    }

    /// Waits the retry policy's backoff, counted from when the failure arrived: operations that failed together (at one
    /// simulated instant) wait together instead of one after another.
    private func backOff(attempt: Int, since: Date?) async {
        let failedAt = if let since { since } else { await graph.clock.now() }
        try? await WaitReason.$current.withValue(.retry) {
            try await graph.clock.sleep(until: failedAt.addingTimeInterval(graph.retry.backoff(attempt: attempt)))
        }
    }

    private func mapping(_ op: PlannedOperation, _ outcome: OperationOutcome, stage: String) -> IDMapEntry? {
        guard let type = op.objectType, let newID = outcome.newID else { return nil }
        let how: RestoreMethod
        switch outcome.result {
        case .created: how = .created
        case .adopted, .unchanged: how = .adopted
        case .applied: how = .restored
        case .skipped: return nil
        }
        return IDMapEntry(
            objectType: type, oldID: op.sourceID, newID: newID, naturalKey: outcome.naturalKey ?? op.naturalKey,
            displayName: op.displayName,
            how: how, oldAppID: op.detail["appId"]?.stringValue, newAppID: outcome.newAppID, stageID: stage)
    }

    /// Runs `body` over the items with at most `options.concurrency` in flight, keeping input order.
    private func concurrently(
        _ items: [PlannedOperation], _ body: @escaping @Sendable (PlannedOperation) async -> CheckpointStore.Completion
    ) async -> [CheckpointStore.Completion] {
        await withTaskGroup(of: (Int, CheckpointStore.Completion).self) { group in
            var results = [CheckpointStore.Completion?](repeating: nil, count: items.count)
            var next = 0
            func addNext() {
                guard next < items.count else { return }
                let index = next
                let item = items[index]
                group.addTask { (index, await body(item)) }
                next += 1
            }
            for _ in 0..<min(max(1, options.concurrency), items.count) { addNext() }
            while let (index, completion) = await group.next() {
                results[index] = completion
                addNext()
            }
            return results.map { $0! }
        }
    }
}

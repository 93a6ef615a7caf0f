import Foundation
import LifeboatEngine
import LifeboatFakeTenant
import LifeboatGraph
import LifeboatJSON
import LifeboatReport
import LifeboatRunbook
import LifeboatSnapshot
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One process's share of a tabletop: it books the simulated clock's waits per stage into the checkpoint (for the
/// RTO estimate), injects the scenario's events when their moment comes (recording each in the event log), and
/// spreads requests over several app registrations when asked to.
///
/// The CLI creates one per `tabletop` or `resume`, hands ``transport(dropResponses:)`` to the Graph client and
/// ``observer(wrapping:)`` to the executor, calls ``begin(isNewRun:runbook:)`` before the executor runs and
/// ``finish()`` after it.
package final class TabletopSession: Sendable {
    package let scenario: TabletopScenario?
    package let store: CheckpointStore
    package let clock: VirtualClock
    package let tenant: FakeTenant
    package let snapshot: Snapshot
    /// App registrations the requests are spread over.
    package let apps: Int

    private struct State {
        var stage: String?
        var finished: [String: Int] = [:]
        var started: Set<String> = []
        var booked: [WaitReason: Double] = [:]
        var reportsSinceFlush = 0
        /// Keys of events already injected (this process or an earlier one).
        var fired: Set<String> = []
        /// Writes applied during the stage a pending kill watches.
        var killWrites = 0
        /// A kill armed from the interactive menu: the stage after the current one.
        var armedKill: (stage: String?, afterWrites: Int)?
    }

    private let state = Mutex(State())
    private let planned: [String: Int]
    private let stageOrder: [String]
    private let totalPlanned: Int
    private let pendingWaits: AsyncStream<(String, [String: Double])>.Continuation
    private let writer: Task<Void, Never>

    /// `planned` is every stage's operation count, in runbook order (from ``Executor/prepare(_:snapshot:)``).
    package init(
        scenario: TabletopScenario?, store: CheckpointStore, clock: VirtualClock, tenant: FakeTenant, snapshot: Snapshot,
        planned: [(stageID: String, operations: Int)], apps: Int = 1
    ) {
        self.scenario = scenario
        self.store = store
        self.clock = clock
        self.tenant = tenant
        self.snapshot = snapshot
        self.apps = max(1, apps)
        self.planned = Dictionary(planned.map { ($0.stageID, $0.operations) }, uniquingKeysWith: { first, _ in first })
        stageOrder = planned.map(\.stageID)
        totalPlanned = planned.map(\.operations).reduce(0, +)
        let (stream, continuation) = AsyncStream<(String, [String: Double])>.makeStream()
        pendingWaits = continuation
        writer = Task {
            for await (stage, waits) in stream { try? await store.addSimulatedWaits(waits, stageID: stage) }
        }
    }

    // MARK: - Before the run

    /// The profile the fake tenant runs with: a scenario that publishes DNS records itself turns off the profile's
    /// simulated operator, who would otherwise publish them on the profile's schedule.
    package static func profile(_ profile: FakeTenantProfile, for scenario: TabletopScenario?) -> FakeTenantProfile {
        guard let scenario,
            scenario.events.contains(where: {
                if case .publishDNS = $0.action { return true }; return false
            })
        else { return profile }
        var adjusted = profile
        adjusted.dnsRecordsPublishedAfterSeconds = nil
        return adjusted
    }

    /// The runbook with the scenario's gate durations in place of the stages' `estimatedDuration`.
    package static func runbook(_ runbook: Runbook, for scenario: TabletopScenario?) -> Runbook {
        guard let scenario, !scenario.gateDurations.isEmpty else { return runbook }
        var adjusted = runbook
        for index in adjusted.stages.indices {
            if let seconds = scenario.gateDurations[adjusted.stages[index].id] { adjusted.stages[index].estimatedDuration = seconds }
        }
        return adjusted
    }

    /// Records what the estimate needs (the stage graph), damages an in-place target as the scenario says (new run),
    /// or notes a kill that ended the previous process and lets its downtime pass (resume).
    package func begin(isNewRun: Bool, runbook: Runbook) async throws {
        try await store.recordStageDependencies(runbook.stages.map { ($0.id, $0.after) })
        let events = try await store.events()
        var fired = Set<String>(), recovered = Set<String>()
        for record in events {
            switch record.event {
            case .scenarioInjected(_, let key, _): fired.insert(key)
            case .scenarioRecovered(_, let key, _): recovered.insert(key)
            default: break
            }
        }
        var finished: [String: Int] = [:]
        for stage in stageOrder {
            let counts = try await store.operationCounts(stageID: stage)
            finished[stage] = counts[.done, default: 0] + counts[.skipped, default: 0]
        }
        if let scenario {
            if isNewRun {
                try await store.append(
                    .scenarioLoaded(
                        summary: "scenario \(scenario.name) (\(scenario.file)): "
                            + (scenario.events.isEmpty ? "no injected events" : scenario.events.map(Self.describe).joined(separator: "; "))),
                    simulated: now)
                if scenario.target == .inPlace {
                    let count = try await tenant.importSnapshot(snapshot)
                    // A tenant that ran Conditional Access had Security Defaults off (they cannot be on together).
                    if !snapshot.conditionalAccessPolicies.isEmpty { try await tenant.setSecurityDefaults(enabled: false) }
                    try await store.append(.scenarioSetup(objects: count), simulated: now)
                }
                for event in scenario.events where event.trigger == .start {
                    try await inject(event)
                    fired.insert(event.key)
                }
            }
            // A kill ended the last process: the machine was down for the scenario's downtime.
            for event in scenario.events where fired.contains(event.key) && !recovered.contains(event.key) {
                guard case .kill(let stage, _, let downtime) = event.action else { continue }
                clock.advance(by: downtime)
                try await store.addSimulatedWaits([WaitReason.interruption.rawValue: downtime], stageID: stage)
                try await store.append(
                    .scenarioRecovered(
                        stageID: stage, eventKey: event.key,
                        text: "\(event.name): the operator is back on a working machine after \(DurationText.format(downtime)) and resumes"),
                    simulated: now)
            }
        }
        state.withLock {
            $0.fired = fired
            $0.finished = finished
            $0.booked = clock.waited
        }
    }

    // MARK: - During the run

    /// The executor's observer: books waits to the stage they happened in, tracks progress, then passes `inner` the news.
    package func observer(wrapping inner: (any RunObserver)?) -> any RunObserver {
        SessionObserver(session: self, inner: inner)
    }

    fileprivate func observe(_ progress: RunProgress) {
        let stageID: String?
        var flush = true
        switch progress {
        case .stageStarted(let id, _, _):
            stageID = id
            state.withLock { _ = $0.started.insert(id) }
        case .stageFinished(let id, _, _), .gateWaiting(let id, _), .gateApproved(let id, _):
            stageID = id
        case .operations(let id, let finished, _):
            stageID = id
            state.withLock {
                $0.finished[id] = finished
                $0.reportsSinceFlush += 1
                flush = $0.reportsSinceFlush >= 16
            }
        case .warning:
            stageID = nil
        }
        guard let stageID else { return }
        state.withLock { $0.stage = stageID }
        if flush { bookWaits(to: stageID) }
    }

    /// Moves the clock's waits since the last booking to `stageID`, to be stored.
    private func bookWaits(to stageID: String) {
        let waited = clock.waited
        let delta: [String: Double] = state.withLock { state in
            var delta: [String: Double] = [:]
            for (reason, seconds) in waited where seconds > state.booked[reason, default: 0] {
                delta[reason.rawValue] = seconds - state.booked[reason, default: 0]
            }
            state.booked = waited
            state.reportsSinceFlush = 0
            return delta
        }
        if !delta.isEmpty { pendingWaits.yield((stageID, delta)) }
    }

    /// Stores the waits not stored yet, and this process's waiting per throttling limit against each limit's lower
    /// bound (event ``RunEvent/throttlingLimits(_:)``); call when the executor returns (and before a simulated kill).
    package func finish() async {
        if let stage = state.withLock({ $0.stage }) { bookWaits(to: stage) }
        pendingWaits.finish()
        await writer.value
        let usage = await tenant.throttlingUsage
        if let figures = tenant.profile.throttling.limitFigures(usage: usage, waited: clock.waitedByThrottleScope), !figures.isEmpty {
            let limits = figures.map {
                ThrottlingLimitFigure(scope: $0.scope, label: $0.label, waited: $0.waited, lowerBound: $0.lowerBound)
            }
            try? await store.append(.throttlingLimits(limits), simulated: nil)
        }
    }

    /// Simulated seconds since the run's start.
    package var now: Double { clock.instant.timeIntervalSince(VirtualClock.epoch) }

    /// The Graph transport of the run: the fake tenant (as `apps` app registrations, round robin), with the scenario's
    /// events fired as their moment comes.
    package func transport(dropResponses: DroppedResponses? = nil) -> any HTTPTransport {
        ScenarioTransport(
            session: self, inner: Self.appNames(apps).map { FakeTenantTransport(tenant: tenant, dropResponses: dropResponses, app: $0) })
    }

    /// The Graph client of an in-process tabletop: one ``GraphApp`` per app registration (the fake tenant's apps
    /// `lifeboat`, `lifeboat-2`, …), paced on the simulated clock by a governor with the profile's quotas
    /// (``governorConfiguration(for:apps:)``), as `rebuild` paces Graph.
    package func graphClient(dropResponses: DroppedResponses? = nil) -> GraphClient {
        let apps = Self.appNames(apps).map { name in
            GraphApp(
                name: name,
                transport: ScenarioTransport(
                    session: self, inner: [FakeTenantTransport(tenant: tenant, dropResponses: dropResponses, app: name)]))
        }
        let governor = Self.governorConfiguration(for: tenant.profile, apps: apps.count, users: snapshot.users.count)
            .map { ThroughputGovernor(configuration: $0, clock: clock) }
        return GraphClient(baseURL: FakeTenantTransport.baseURL, apps: apps, clock: clock, governor: governor)
    }

    /// The fake tenant's app registration names for `apps` apps.
    static func appNames(_ apps: Int) -> [String] { (1...max(1, apps)).map { $0 == 1 ? "lifeboat" : "lifeboat-\($0)" } }

    /// A governor configuration with the profile's quotas (per app: writes per 150 s, resource units per 10 s —
    /// `auto` by the size the tenant will have, `users`, as `rebuild --tenant-size` says; per tenant: writes per 300 s,
    /// Conditional Access requests per second), or `nil` when the profile does not throttle.
    package static func governorConfiguration(for profile: FakeTenantProfile, apps: Int, users: Int) -> ThroughputGovernor.Configuration? {
        let limits = profile.throttling
        guard limits.enabled else { return nil }
        var conditionalAccess = ThroughputGovernor.EndpointLimit.conditionalAccess
        conditionalAccess.requestsPerSecond = max(0.001, limits.conditionalAccessPerSecond)
        return ThroughputGovernor.Configuration(
            writes: .init(limit: Double(limits.writesPerApp), window: 150),
            tenantWrites: .init(limit: Double(limits.writesPerTenant), window: 300),
            resourceUnits: limits.resourceUnitsPer10s.map { .init(limit: Double($0), window: 10) }
                ?? (users < 50 ? ThroughputGovernor.TenantSize.small : users <= 500 ? .medium : .large).resourceUnits,
            endpointLimits: [conditionalAccess], apps: apps)
    }

    /// Fires the events whose moment has come; called before each request.
    fileprivate func fireDueEvents() async throws {
        guard let scenario else { return }
        let due: [ScenarioEvent] = state.withLock { state in
            let elapsed = clock.instant.timeIntervalSince(VirtualClock.epoch)
            let runShare = totalPlanned > 0 ? Double(state.finished.values.reduce(0, +)) / Double(totalPlanned) : 0
            return scenario.events.filter { event in
                guard !state.fired.contains(event.key) else { return false }
                switch (event.trigger, event.action) {
                case (_, .kill): return false  // counted by writes, in afterWrite
                case (.start, _): return false
                case (.time(let at), _): return elapsed >= at
                case (.progress(let share, let stage?), _):
                    return state.started.contains(stage)
                        && Double(state.finished[stage, default: 0]) >= share * Double(planned[stage, default: 0])
                case (.progress(let share, nil), _): return runShare >= share
                }
            }
        }
        for event in due {
            let first = state.withLock { $0.fired.insert(event.key).inserted }
            if first { try await inject(event) }
        }
    }

    /// Counts an applied write toward a pending kill, and kills the process when its moment comes.
    fileprivate func afterWrite() async {
        let due: (event: ScenarioEvent?, stage: String)? = state.withLock { state in
            guard let stage = state.stage else { return nil }
            if let armed = state.armedKill, armed.stage == stage {
                state.killWrites += 1
                guard state.killWrites >= armed.afterWrites else { return nil }
                state.armedKill = nil
                return (nil, stage)
            }
            guard
                let event = scenario?.events.first(where: { event in
                    if case .kill(let target, _, _) = event.action { return target == stage && !state.fired.contains(event.key) }
                    return false
                }), case .kill(_, let share, _) = event.action
            else { return nil }
            state.killWrites += 1
            let threshold = max(1, Int((share * Double(planned[stage, default: 0])).rounded(.up)))
            guard state.killWrites >= threshold else { return nil }
            state.fired.insert(event.key)
            return (event, stage)
        }
        guard let due else { return }
        let name = due.event?.name ?? "kill"
        try? await store.append(
            .scenarioInjected(
                stageID: due.stage, eventKey: due.event?.key ?? "interactive:kill",
                text:
                    "\(name): the operator's machine dies during \(due.stage) (the process is killed with SIGKILL after \(state.withLock { $0.killWrites }) writes of the stage were applied); run `lifeboat resume` to continue"
            ),
            simulated: now)
        bookWaits(to: due.stage)
        pendingWaits.finish()
        await writer.value
        // The writes the tenant applied stay applied: it is the operator's machine that dies, not Graph.
        try? await tenant.commit()
        FileHandle.standardError.write(
            Data(
                "lifeboat: scenario: the operator's machine dies now (SIGKILL during \(due.stage)); `lifeboat resume --state \(store.path)` continues\n"
                    .utf8))
        kill(getpid(), SIGKILL)
    }

    // MARK: - Injections

    /// Applies one event to the fake tenant and records it in the event log.
    func inject(_ event: ScenarioEvent) async throws {
        let stage = state.withLock { $0.stage }
        let message: String
        switch event.action {
        case .throttlingStorm(let share, let duration):
            message = try await startStorm(share: share, duration: duration)
        case .publishDNS(let domains):
            let names =
                domains
                ?? snapshot.domains.filter { !$0.isInitial && !$0.id.lowercased().hasSuffix(".onmicrosoft.com") }.map { $0.id.lowercased() }
            for name in names { try await tenant.publishDNSRecord(for: name) }
            message = "the TXT records of \(names.joined(separator: ", ")) are published in DNS"
        case .delete(let selection, let purge, let daysAgo):
            let ids = try Self.resolve(selection, in: snapshot)
            let count = try await tenant.delete(ids: ids, purge: purge, deletedDaysAgo: daysAgo)
            message =
                purge
                ? "\(count) objects purged (gone for good, not in the recycle bin): \(Self.names(selection))"
                : "\(count) objects deleted\(daysAgo > 0 ? " \(daysAgo) days ago" : "") (soft where Graph soft-deletes): \(Self.names(selection))"
        case .holdDomains(let domains, let held):
            for name in domains { try await tenant.holdDomain(name, held: held) }
            message =
                held
                ? "\(domains.joined(separator: ", ")) stay verified in the old tenant: the target cannot verify them"
                : "the old tenant released \(domains.joined(separator: ", ")): the target can verify them"
        case .kill:
            return  // recorded by afterWrite, just before the process dies
        }
        try await store.append(
            .scenarioInjected(
                stageID: event.trigger == .start ? nil : stage, eventKey: event.key,
                text: "\(event.name) (\(Self.moment(event.trigger))): \(message)"),
            simulated: now)
    }

    private func startStorm(share: Double, duration: Double) async throws -> String {
        await tenant.startThrottlingStorm(share: share, until: clock.instant.addingTimeInterval(duration))
        return "Graph's quotas shrink to \(Int((share * 100).rounded()))% for \(DurationText.format(duration))"
            + (tenant.profile.throttling.enabled ? "" : " (no effect: profile \(tenant.profile.name) does not throttle)")
    }

    /// An injection chosen at a gate's prompt (interactive exercise); recorded like a scenario event.
    package func injectFromPrompt(_ fault: PromptFault, by person: String, gate: String) async throws -> String {
        let message: String
        switch fault {
        case .throttlingStorm(let share, let duration):
            message = try await startStorm(share: share, duration: duration)
        case .killDuringNextStage:
            let next = stageOrder.firstIndex(of: gate).flatMap { index in stageOrder[(index + 1)...].first { planned[$0, default: 0] > 0 } }
            guard let next else { return "no later stage writes anything; nothing armed" }
            let writes = max(1, planned[next, default: 1] / 2)
            state.withLock {
                $0.armedKill = (next, writes)
                $0.killWrites = 0
            }
            message = "the operator's machine will die during \(next) (after \(writes) writes)"
        }
        try await store.append(
            .scenarioInjected(stageID: gate, eventKey: "interactive:\(gate)", text: "injected by \(person) at gate \(gate): \(message)"),
            simulated: now)
        return message
    }

    /// Faults an operator can inject from a gate's prompt.
    package enum PromptFault: Sendable {
        case throttlingStorm(share: Double, duration: Double)
        case killDuringNextStage
    }

    // MARK: - Words

    static func moment(_ trigger: ScenarioEvent.Trigger) -> String {
        switch trigger {
        case .start: "before the run"
        case .time(let at): "at \(DurationText.format(at)) simulated"
        case .progress(let share, let stage):
            "at \(Int((share * 100).rounded()))% of \(stage.map { "stage \($0)" } ?? "the run's operations")"
        }
    }

    static func describe(_ event: ScenarioEvent) -> String {
        switch event.action {
        case .throttlingStorm(let share, let duration):
            "\(event.name) \(moment(event.trigger)): quotas at \(Int((share * 100).rounded()))% for \(DurationText.format(duration))"
        case .kill(let stage, let share, let downtime):
            "\(event.name): the process is killed at \(Int((share * 100).rounded()))% of \(stage)'s writes, down for \(DurationText.format(downtime))"
        case .publishDNS(let domains):
            "\(event.name) \(moment(event.trigger)): TXT records of \(domains?.joined(separator: ", ") ?? "every custom domain") appear"
        case .delete(let selection, let purge, _):
            "\(event.name) \(moment(event.trigger)): \(purge ? "purge" : "delete") \(names(selection))"
        case .holdDomains(let domains, let held):
            "\(event.name) \(moment(event.trigger)): \(domains.joined(separator: ", ")) \(held ? "held by the old tenant" : "released by the old tenant")"
        }
    }

    static func names(_ selection: ScenarioEvent.ObjectSelection) -> String {
        switch selection {
        case .collections(let names): names == TabletopScenario.deletableCollections ? "every object" : names.joined(separator: ", ")
        case .named(let names): names.joined(separator: ", ")
        }
    }

    /// The snapshot ids a selection names; a name that matches nothing is an error.
    package static func resolve(_ selection: ScenarioEvent.ObjectSelection, in snapshot: Snapshot) throws(ScenarioReferenceError)
        -> [String]
    {
        let collections: [(String, [(id: String, names: [String])])] = [
            ("users", snapshot.users.map { ($0.id, [$0.userPrincipalName, $0.displayName]) }),
            ("groups", snapshot.groups.map { ($0.id, [$0.displayName]) }),
            ("applications", snapshot.applications.map { ($0.id, [$0.displayName]) }),
            ("servicePrincipals", snapshot.servicePrincipals.map { ($0.id, [$0.displayName]) }),
            ("administrativeUnits", snapshot.administrativeUnits.map { ($0.id, [$0.displayName]) }),
            ("conditionalAccessPolicies", snapshot.conditionalAccessPolicies.map { ($0.id, [$0.displayName]) }),
            ("namedLocations", snapshot.namedLocations.map { ($0.id, [$0.displayName]) }),
        ]
        switch selection {
        case .collections(let names):
            return collections.filter { names.contains($0.0) }.flatMap { $0.1.map(\.id) }
        case .named(let names):
            var ids: [String] = []
            for name in names {
                let matches = collections.flatMap { $0.1 }.filter { object in
                    object.id.caseInsensitiveCompare(name) == .orderedSame
                        || object.names.contains { $0.caseInsensitiveCompare(name) == .orderedSame }
                }
                guard let first = matches.first else { throw ScenarioReferenceError(name: name) }
                ids.append(first.id)
            }
            return ids
        }
    }
}

/// A `delete` or `purge` event names an object the snapshot does not hold.
package struct ScenarioReferenceError: Error, Sendable, CustomStringConvertible {
    package var name: String
    package var description: String { "no object in the snapshot has the id, userPrincipalName or display name \"\(name)\"" }
}

/// The executor's observer during a tabletop session.
private struct SessionObserver: RunObserver {
    let session: TabletopSession
    let inner: (any RunObserver)?

    func report(_ progress: RunProgress) {
        session.observe(progress)
        inner?.report(progress)
    }
}

/// The fake tenant as the run's transport, firing scenario events before requests and counting writes for kills.
private struct ScenarioTransport: HTTPTransport {
    let session: TabletopSession
    let inner: [FakeTenantTransport]
    private let next = RequestCounter()

    init(session: TabletopSession, inner: [FakeTenantTransport]) {
        self.session = session
        self.inner = inner
    }

    var carriesJSONValues: Bool { inner.allSatisfy(\.carriesJSONValues) }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await session.fireDueEvents()
        let index = inner.count == 1 ? 0 : next.next() % inner.count
        let response = try await inner[index].send(request)
        if request.isWrite, (200..<300).contains(response.status) { await session.afterWrite() }
        return response
    }
}

/// Numbers requests across concurrent tasks, to spread them round robin.
private final class RequestCounter: Sendable {
    private let count = Mutex(0)
    func next() -> Int {
        count.withLock { value in
            value += 1
            return value
        }
    }
}

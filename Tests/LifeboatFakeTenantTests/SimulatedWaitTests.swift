import Foundation
import LifeboatFakeTenant
import LifeboatGraph
import Synchronization
import Testing

/// Holds the first round of requests until `count` have arrived, then answers each of them 503 with Retry-After: 5;
/// every later request gets 200. So `count` requests are answered "503" at one simulated instant.
final class BusyAtOnce: HTTPTransport, Sendable {
    private let count: Int
    private let clock: VirtualClock
    private let state = Mutex<(arrived: Int, waiting: [CheckedContinuation<Void, Never>])>((0, []))

    init(count: Int, clock: VirtualClock) {
        self.count = count
        self.clock = clock
    }

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        let round: Int = state.withLock { state in
            state.arrived += 1
            return state.arrived
        }
        guard round <= count else {
            return HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data(#"{"id":"x"}"#.utf8))
        }
        let answeredAt = clock.instant
        await withCheckedContinuation { continuation in
            let release: [CheckedContinuation<Void, Never>] = state.withLock { state in
                state.waiting.append(continuation)
                guard state.waiting.count == count else { return [] }
                defer { state.waiting = [] }
                return state.waiting
            }
            for waiter in release { waiter.resume() }
        }
        var response = HTTPResponse(
            status: 503, headers: ["Retry-After": "5"],
            body: Data(#"{"error":{"code":"serviceNotAvailable","message":"busy"}}"#.utf8))
        response.answeredAt = answeredAt  // as the fake tenant stamps its answers
        return response
    }
}

/// On a simulated clock, waits that happen side by side in reality must not add up.
@Suite struct SimulatedWaitTests {
    @Test func requestsAnsweredTogetherWaitTogether() async throws {
        let clock = VirtualClock()
        let graph = GraphClient(baseURL: "https://graph.example/v1.0", transport: BusyAtOnce(count: 8, clock: clock), clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 { group.addTask { _ = try await graph.get("/users/u\(index)") } }
            try await group.waitForAll()
        }
        // Eight Retry-After: 5 answered at one instant are one 5-second wait, not 40 seconds.
        #expect(clock.elapsed >= 5 && clock.elapsed < 6, "\(clock.elapsed)")
        #expect((clock.waited[.retry] ?? 0) < 6)
    }
}

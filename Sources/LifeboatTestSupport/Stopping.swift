/// Something a test starts (a server, a rig) and must stop, awaited, before the test ends.
package protocol TestStoppable: Sendable {
    func stop() async
}

/// Runs `body` with `resource`, then awaits `resource.stop()` whether `body` returned or threw. (A
/// `defer { Task { await resource.stop() } }` lets the test end — and the next one start — before the server is down.)
package func stopping<Resource: TestStoppable, Value>(_ resource: Resource, _ body: (Resource) async throws -> Value) async throws -> Value
{
    let result: Value
    do {
        result = try await body(resource)
    } catch {
        await resource.stop()
        throw error
    }
    await resource.stop()
    return result
}

import Foundation
import LifeboatGraph

extension FakeTenantProfile.Throttling {
    /// Writes per second one app can sustain: the tighter of the per-app quota (writes per 150 s) and the
    /// per-tenant quota (writes per 300 s), or `nil` when throttling is off.
    package var sustainedWritesPerSecond: Double? { sustainedWritesPerSecond(apps: 1) }

    /// Writes per second `apps` app registrations can sustain together: the tighter of `apps` × the per-app quota
    /// and the per-tenant quota, or `nil` when throttling is off.
    package func sustainedWritesPerSecond(apps: Int) -> Double? {
        guard enabled else { return nil }
        return min(Double(max(1, apps) * writesPerApp) / 150, Double(writesPerTenant) / 300)
    }

    /// The arithmetic lower bound of a recovery's time spent on Graph's write quota: `writes` write units
    /// divided by the write quota. A tabletop's simulated throttling time should land close to it; far above
    /// means the client wastes quota (refused requests still count), far below means the fake is too lenient.
    /// `nil` when throttling is off.
    package func writeTimeLowerBound(writes: Int, apps: Int = 1) -> Double? {
        sustainedWritesPerSecond(apps: apps).map { Double(writes) / $0 }
    }
}

/// What each of Graph's limits admitted in a tabletop (``FakeTenant/throttlingUsage``).
package struct ThrottlingUsage: Sendable, Hashable {
    package var writesByApp: [String: Int]
    package var resourceUnitsByApp: [String: Double]
    package var conditionalAccessRequests: Int
    /// The resource-unit quota per app the fake applied at the end (it grows with the tenant's users).
    package var resourceUnitsPer10s: Int

    package init(writesByApp: [String: Int], resourceUnitsByApp: [String: Double], conditionalAccessRequests: Int, resourceUnitsPer10s: Int)
    {
        self.writesByApp = writesByApp
        self.resourceUnitsByApp = resourceUnitsByApp
        self.conditionalAccessRequests = conditionalAccessRequests
        self.resourceUnitsPer10s = resourceUnitsPer10s
    }
}

/// One limit's simulated waiting against its arithmetic lower bound.
package struct ThrottlingLimitFigure: Sendable, Hashable {
    /// ``LifeboatGraph/ThrottleScope`` value of the limit.
    package var scope: String
    /// The limit in words, e.g. `app write window (3000 / 150 s per app)`.
    package var label: String
    /// Simulated seconds waited for this limit.
    package var waited: Double
    /// The least time the limit's work needs: the work beyond the first full window ÷ the limit's rate (for several
    /// apps, the busiest app's). A client that never waits for anything else cannot do better.
    package var lowerBound: Double
}

extension FakeTenantProfile.Throttling {
    /// Each limit's waiting (`waited`, seconds by ``LifeboatGraph/ThrottleScope``, as ``VirtualClock/waitedByThrottleScope``
    /// books it) against its lower bound, for the limits that did any work; `nil` when throttling is off.
    package func limitFigures(usage: ThrottlingUsage, waited: [String: Double]) -> [ThrottlingLimitFigure]? {
        guard enabled else { return nil }
        func bound(_ work: Double, burst: Double, perSecond: Double) -> Double { max(0, work - burst) / max(0.000_001, perSecond) }
        let appWrites = Double(usage.writesByApp.values.max() ?? 0)
        let tenantWrites = Double(usage.writesByApp.values.reduce(0, +))
        let units = usage.resourceUnitsByApp.values.max() ?? 0
        let ca = Double(usage.conditionalAccessRequests)
        let figures = [
            (
                ThrottleScope.appWrites, "app write window (\(writesPerApp) / 150 s per app)", appWrites,
                bound(appWrites, burst: Double(writesPerApp), perSecond: Double(writesPerApp) / 150)
            ),
            (
                ThrottleScope.tenantWrites, "tenant write window (\(writesPerTenant) / 300 s)", tenantWrites,
                bound(tenantWrites, burst: Double(writesPerTenant), perSecond: Double(writesPerTenant) / 300)
            ),
            (
                ThrottleScope.resourceUnits, "resource units (\(usage.resourceUnitsPer10s) / 10 s per app)", units,
                bound(units, burst: Double(usage.resourceUnitsPer10s), perSecond: Double(usage.resourceUnitsPer10s) / 10)
            ),
            (
                ThrottleScope.conditionalAccess,
                "Conditional Access endpoint (\(Self.number(conditionalAccessPerSecond)) request/s per tenant)", ca,
                bound(ca, burst: 1, perSecond: conditionalAccessPerSecond)
            ),
        ]
        return figures.filter { $0.2 > 0 || waited[$0.0, default: 0] > 0 }.map {
            ThrottlingLimitFigure(scope: $0.0, label: $0.1, waited: waited[$0.0, default: 0], lowerBound: $0.3)
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

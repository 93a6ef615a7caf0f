import Foundation

extension FakeTenantProfile.Throttling {
    /// Writes per second one app can sustain: the tighter of the per-app quota (writes per 150 s) and the
    /// per-tenant quota (writes per 300 s), or `nil` when throttling is off.
    public var sustainedWritesPerSecond: Double? {
        guard enabled else { return nil }
        return min(Double(writesPerApp) / 150, Double(writesPerTenant) / 300)
    }

    /// The arithmetic lower bound of a recovery's time spent on Graph's write quota: `writes` write units
    /// divided by the write quota. A tabletop's simulated throttling time should land close to it; far above
    /// means the client wastes quota (refused requests still count), far below means the fake is too lenient.
    /// `nil` when throttling is off.
    public func writeTimeLowerBound(writes: Int) -> Double? {
        sustainedWritesPerSecond.map { Double(writes) / $0 }
    }
}

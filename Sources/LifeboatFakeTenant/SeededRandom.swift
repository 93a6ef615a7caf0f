import Foundation

/// A seeded pseudo-random sequence (SplitMix64): the same seed gives the same tenant on every machine.
///
/// Not for secrets: it is a reproducible sequence, nothing more.
package struct SeededRandom: RandomNumberGenerator, Sendable {
    /// The generator's state, to continue the sequence elsewhere.
    package private(set) var state: UInt64

    package init(seed: UInt64) {
        state = seed
    }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform integer in `range`.
    package mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    /// A number in `0..<n` (n ≥ 1).
    package mutating func below(_ n: Int) -> Int { index(n) }

    /// A uniform integer in `0..<upperBound`.
    package mutating func index(_ upperBound: Int) -> Int {
        Int(next() % UInt64(max(1, upperBound)))
    }

    /// A uniform double in `[0, 1)`.
    package mutating func unit() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `true` with probability `probability`.
    package mutating func chance(_ probability: Double) -> Bool { unit() < probability }

    /// One element of a non-empty array.
    package mutating func pick<T>(_ elements: [T]) -> T { elements[index(elements.count)] }

    /// One element, chosen with the given weights.
    package mutating func pick<T>(_ weighted: [(T, Int)]) -> T {
        let total = weighted.reduce(0) { $0 + $1.1 }
        var roll = index(total)
        for (element, weight) in weighted {
            if roll < weight { return element }
            roll -= weight
        }
        return weighted[weighted.count - 1].0
    }

    /// A version-4 UUID, lower-cased as Graph writes ids.
    package mutating func uuid() -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 { bytes += withUnsafeBytes(of: next().bigEndian, Array.init) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (position, byte) in bytes.enumerated() {
            if position == 4 || position == 6 || position == 8 || position == 10 { text.append(UInt8(ascii: "-")) }
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// A base64url string of `bytes` random bytes, the shape of appRoleAssignment and grant ids.
    package mutating func base64URL(bytes count: Int) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { bytes += withUnsafeBytes(of: next(), Array.init) }
        return Data(bytes.prefix(count)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

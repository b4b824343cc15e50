import Foundation

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by the golden-ratio gamma,
/// output through a bijective finalizer. Strata uses it to seed `SeededRandom` and, through
/// `mix`, for counter-based random numbers (one independent value per key, no state).
public struct SplitMix64: Sendable {
    /// The golden-ratio increment (2^64 / phi, odd).
    public static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    public var state: UInt64
    public init(state: UInt64) { self.state = state }

    /// SplitMix64's output function (Stafford's "Mix13" variant of the MurmurHash3 finalizer).
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next value of the sequence.
    public mutating func next() -> UInt64 {
        state &+= Self.gamma
        return Self.mix(state)
    }
}

/// Strata's random number generator: xoshiro256** seeded through SplitMix64.
///
/// Hand-written (a dozen lines) because the standard library's `SystemRandomNumberGenerator`
/// cannot be seeded, and results must be reproducible for a given seed on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = SplitMix64(state: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    /// An independent stream for sub-task `index` (restart number, bootstrap replicate...).
    public static func stream(seed: UInt64, index: UInt64) -> SeededRandom {
        SeededRandom(seed: seed ^ (index &* 0xD1B5_4A32_D192_ED03) &+ index)
    }

    @inline(__always)
    private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A standard normal value by Box-Muller (cosine branch): consumes two `nextUnit()` draws,
    /// the first clamped to 1e-300 (no log(0)); the sine branch is not kept, so the stream is
    /// the same however the values are used.
    public mutating func nextGaussian() -> Double {
        let u1 = max(nextUnit(), 1e-300), u2 = nextUnit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

import Foundation
import Synchronization

/// Request ids: version 4 UUIDs that must be unique, not secret. A SplitMix64 sequence seeded once from the system's
/// random source never repeats a 64-bit output within 2^64 steps, so no two requests of a process share an id, and
/// processes start at random points. The system source costs two `getrandom` calls per id, which showed in the
/// ingestion profile.
public final class RequestIDSource: Sendable {
    private let state: Mutex<UInt64>

    public init(seed: UInt64? = nil) {
        var generator = SystemRandomNumberGenerator()
        state = Mutex(seed ?? generator.next())
    }

    public func next() -> UUID {
        let (high, low) = state.withLock { state -> (UInt64, UInt64) in
            state &+= 0x9E37_79B9_7F4A_7C15
            let high = Self.mix(state)
            state &+= 0x9E37_79B9_7F4A_7C15
            return (high, Self.mix(state))
        }
        var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high.bigEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low.bigEndian, toByteOffset: 8, as: UInt64.self)
            raw[6] = raw[6] & 0x0F | 0x40 // version 4
            raw[8] = raw[8] & 0x3F | 0x80 // RFC 9562 variant
        }
        return UUID(uuid: bytes)
    }

    /// SplitMix64's output function: a bijection, so distinct states give distinct outputs.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's random source. Foundation's `UUID()` opens, reads and closes
    /// /dev/urandom on Linux every time: three system calls for each request id on the ingestion path.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A version-4 UUID from `generator`'s bits (RFC 9562 section 5.4).
    public static func random(using generator: inout some RandomNumberGenerator) -> UUID {
        let high: UInt64 = generator.next(), low: UInt64 = generator.next()
        var bytes = (UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0),
                     UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0), UInt8(0))
        withUnsafeMutableBytes(of: &bytes) { raw in
            raw.storeBytes(of: high, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            raw[6] = raw[6] & 0x0F | 0x40
            raw[8] = raw[8] & 0x3F | 0x80
        }
        return UUID(uuid: bytes)
    }
}

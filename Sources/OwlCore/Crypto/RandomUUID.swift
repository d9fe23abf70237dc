import Foundation

extension UUID {
    /// A random (version 4) UUID from the system's random source (`getrandom`). Foundation's `UUID()` opens, reads and
    /// closes /dev/urandom on Linux every time: three system calls for each request id on the ingestion path.
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }
}

extension UUID {
    /// The canonical 36-character form: `uuidString` (upper case) or its lower-case twin. Foundation formats
    /// `uuidString` with `snprintf`, which showed in the ingestion profile (a request id and an alert id per request).
    public func text(lowercase: Bool = false) -> String {
        let digits: StaticString = lowercase ? "0123456789abcdef" : "0123456789ABCDEF"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { out in
                var o = 0
                for (i, byte) in bytes.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = digits.utf8Start[Int(byte >> 4)]
                    out[o + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }
}

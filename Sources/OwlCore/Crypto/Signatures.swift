import Crypto
import Foundation

/// Compares secrets (signatures, tokens) in time that does not depend on where they first differ.
public enum ConstantTime {
    public static func equal(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        var difference = UInt8(truncatingIfNeeded: x.count ^ y.count)
        for index in 0..<max(x.count, y.count) {
            difference |= (index < x.count ? x[index] : 0) ^ (index < y.count ? y[index] : 0)
        }
        return difference == 0 && x.count == y.count
    }
}

/// Lower-case hex HMAC-SHA256, the form most providers sign requests with.
public enum HMACSHA256 {
    public static func hex(_ message: String, key: String) -> String {
        APIKeyMaterial.hex(HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(key.utf8))))
    }
}

import Crypto
import Foundation

/// The symmetric key that encrypts tenant secrets at rest (AES-256-GCM).
public struct SecretKey: Sendable {
    let key: SymmetricKey

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        key = SymmetricKey(data: bytes)
    }

    public init?(base64: String) {
        guard let data = Data(base64Encoded: base64) else { return nil }
        self.init(bytes: Array(data))
    }

    /// Encrypts `plaintext`; the result is base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ plaintext: String, context: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: key, authenticating: Data(context.utf8))
        guard let combined = box.combined else { throw SecretError.sealFailed }
        return combined.base64EncodedString()
    }

    /// Decrypts what `seal` produced; `context` must match (it binds a secret to its tenant and name).
    public func open(_ sealed: String, context: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw SecretError.malformed }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: key, authenticating: Data(context.utf8))
        guard let text = String(data: plain, encoding: .utf8) else { throw SecretError.malformed }
        return text
    }

    public enum SecretError: Error { case sealFailed, malformed }
}

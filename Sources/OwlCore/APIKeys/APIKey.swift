import Crypto
import Foundation

/// An API key as listed: never the key itself, only its prefix.
public struct APIKey: Sendable, Codable, Equatable {
    public var id: UUID
    public var keyPrefix: String
    public var role: Role
    public var scopes: [APIKeyScope]
    public var description: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var expiresAt: Date?
    public var revokedAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, role, scopes, description
        case keyPrefix = "key_prefix", createdAt = "created_at", lastUsedAt = "last_used_at"
        case expiresAt = "expires_at", revokedAt = "revoked_at"
    }
}

/// A key just created: the only time the raw key exists outside the caller's hands.
public struct IssuedAPIKey: Sendable {
    public var key: APIKey
    public var rawKey: String

    /// The key's record with the raw key beside it, as `POST /api/v1/api-keys` answers.
    var response: Flattened<APIKey, [String: String]> { Flattened(key, ["key": rawKey]) }
}

/// Key material: generation, hashing, prefixes.
public enum APIKeyMaterial {
    /// `ow_` followed by 48 hex characters (192 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "ow_" + hex(bytes)
    }

    /// Lower-case hex; by hand, because `String(format:)` costs more than the hash on every request.
    public static func hex<S: Sequence<UInt8>>(_ bytes: S) -> String {
        let digits: StaticString = "0123456789abcdef"
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits.utf8Start[Int(byte >> 4)])
            out.append(digits.utf8Start[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Keys are stored as SHA-256 hex digests; the lookup compares digests, never raw keys.
    public static func hash(_ raw: String) -> String {
        var raw = raw
        return raw.withUTF8 { hex(SHA256.hash(data: UnsafeRawBufferPointer($0))) }
    }

    /// What a list shows to identify a key: its first 11 characters.
    public static func prefix(_ raw: String) -> String { String(raw.prefix(11)) }

    /// Cheap shape check so that obvious garbage never reaches the database.
    public static func isPlausible(_ raw: String) -> Bool {
        raw.hasPrefix("ow_") && (16...128).contains(raw.utf8.count) && raw.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

/// Body of `POST /api/v1/api-keys`.
struct CreateAPIKeyRequest: Decodable {
    var role: Role
    var scopes: [APIKeyScope]?
    var description: String?
    var expiresAt: Date?
    enum CodingKeys: String, CodingKey { case role, scopes, description, expiresAt = "expires_at" }
}

import Crypto
import Foundation

/// How long a browser stays signed in: `idleTimeout` after its last request, `lifetime` after sign-in at most.
public struct SessionSettings: Sendable, Equatable {
    public var idleTimeout: TimeInterval
    public var lifetime: TimeInterval
    /// Whether local accounts (email and password) may sign in.
    public var localAccounts: Bool
    /// bcrypt's cost for new password hashes (12; tests use the minimum, 4).
    public var bcryptCost: UInt8 = 12

    public init(idleTimeout: TimeInterval = 12 * 3_600, lifetime: TimeInterval = 7 * 86_400, localAccounts: Bool = true) {
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
        self.localAccounts = localAccounts
    }
}

/// How a session was signed in.
public enum SignInMethod: String, Sendable, Codable { case password, oidc, dev }

/// A signed-in browser, as its user sees it on their profile (never its id or CSRF token).
public struct WebSession: Sendable, Equatable, Encodable {
    public var id: UUID
    public var tenantID: UUID
    public var userID: UUID
    public var method: SignInMethod
    public var userAgent: String?
    public var ipAddress: String?
    public var createdAt: Date
    public var lastSeenAt: Date
    public var expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case id, method, userAgent = "user_agent", ipAddress = "ip_address", createdAt = "created_at", lastSeenAt = "last_seen_at"
        case expiresAt = "expires_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(method, forKey: .method)
        try c.encode(userAgent, forKey: .userAgent)
        try c.encode(ipAddress, forKey: .ipAddress)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(lastSeenAt, forKey: .lastSeenAt)
        try c.encode(expiresAt, forKey: .expiresAt)
    }

    /// A session is over once idle for `idleTimeout` or past its absolute expiry.
    public func isLive(at now: Date, idleTimeout: TimeInterval) -> Bool {
        now < expiresAt && now.timeIntervalSince(lastSeenAt) < idleTimeout
    }
}

/// Random tokens for cookies, CSRF and links: 32 bytes from the system's generator, base64url; stored as SHA-256 hex.
public enum WebToken {
    public static func make() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The session cookie of one service. Each service has its own name, because browsers share cookies between the
/// ports of one host (NightOwl on :8080 and BookOwl on :8081).
public struct SessionCookie: Sendable {
    public let name: String
    public let secure: Bool

    public init(service: String, publicURL: String?) {
        name = "\(service)_session"
        secure = publicURL?.lowercased().hasPrefix("https://") ?? false
    }

    public func set(_ value: String, maxAge: TimeInterval) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(Int(maxAge)); HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "")
    }

    public var clear: String { "\(name)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax" + (secure ? "; Secure" : "") }
}

/// Reads one cookie from a `Cookie` header.
public enum CookieHeader {
    public static func value(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == name {
                let value = pair[1].trimmingCharacters(in: .whitespaces)
                return value.isEmpty ? nil : value
            }
        }
        return nil
    }
}

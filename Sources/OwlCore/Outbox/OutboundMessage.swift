import Foundation

/// An HTTP call a service wants made for sure: queued in the transaction of the change that causes it, delivered by
/// the worker, retried on 5xx, 429 and network errors, recorded attempt by attempt.
public struct OutboundMessage: Sendable, Equatable {
    /// The provider it goes to (`zammad`, `bookowl`, `webhook`): its mode and its metrics label.
    public var provider: String
    /// Makes queueing idempotent: a second message with the same key is not queued.
    public var key: String
    public var method: Method
    public var url: String
    public var headers: [String: String]
    public var body: String
    public var auth: OutboxAuth?
    /// Messages with the same ordering key are delivered one at a time, in the order they were queued.
    public var orderingKey: String?

    public enum Method: String, Sendable, Codable, CaseIterable { case POST, PUT, PATCH, DELETE }

    public init(provider: String, key: String, method: Method = .POST, url: String, headers: [String: String] = [:],
                body: String = "", auth: OutboxAuth? = nil, orderingKey: String? = nil) {
        self.provider = provider
        self.key = key
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.auth = auth
        self.orderingKey = orderingKey
    }

    /// A JSON body (`Content-Type: application/json`).
    public static func json(provider: String, key: String, method: Method = .POST, url: String, body: JSONValue,
                            auth: OutboxAuth? = nil, orderingKey: String? = nil) -> OutboundMessage {
        OutboundMessage(provider: provider, key: key, method: method, url: url, headers: ["Content-Type": "application/json"],
                        body: body.jsonText(), auth: auth, orderingKey: orderingKey)
    }
}

/// Credentials added when the message is sent, never stored with it: the name of a tenant secret, read and decrypted
/// at delivery, so a rotated secret applies to messages still waiting.
public enum OutboxAuth: Sendable, Equatable, Codable {
    /// `X-Owl-Timestamp` and `X-Owl-Signature` over the body with the secret, signed at each attempt.
    case owlSignature(secret: String)
    /// A header whose value is `prefix` followed by the secret (`Authorization: Token token=…`, `X-API-Key: …`).
    case header(name: String, secret: String, prefix: String)

    public var secretName: String {
        switch self {
        case .owlSignature(let secret), .header(_, let secret, _): secret
        }
    }
}

/// A queued message as the outbox list shows it.
public struct OutboxEntry: Sendable, Codable, Equatable {
    public var id: UUID
    public var provider: String
    public var mode: ProviderMode
    public var method: String
    public var url: String
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var responseStatus: Int?
    public var orderingKey: String?
    public var createdAt: Date
    public var sentAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, provider, mode, method, url, status, attempts, nextAttemptAt = "next_attempt_at", lastError = "last_error"
        case responseStatus = "response_status", orderingKey = "ordering_key", createdAt = "created_at", sentAt = "sent_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id.uuidString.lowercased(), forKey: .id)
        try c.encode(provider, forKey: .provider)
        try c.encode(mode, forKey: .mode)
        try c.encode(method, forKey: .method)
        try c.encode(url, forKey: .url)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(responseStatus, forKey: .responseStatus)
        try c.encode(orderingKey, forKey: .orderingKey)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(sentAt, forKey: .sentAt)
    }
}

/// One attempt at a message.
public struct OutboxAttempt: Sendable, Codable, Equatable {
    public var outcome: String
    public var statusCode: Int?
    public var error: String?
    public var durationMs: Int
    public var attemptedAt: Date

    enum CodingKeys: String, CodingKey {
        case outcome, statusCode = "status_code", error, durationMs = "duration_ms", attemptedAt = "attempted_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(statusCode, forKey: .statusCode)
        try c.encode(error, forKey: .error)
        try c.encode(durationMs, forKey: .durationMs)
        try c.encode(attemptedAt, forKey: .attemptedAt)
    }
}

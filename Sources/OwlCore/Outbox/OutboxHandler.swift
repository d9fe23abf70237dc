import Foundation
import PostgresNIO

/// Delivers one kind of outbox message. The outbox claims a handler's due messages (locked, so no other worker sees
/// them), asks it which go out together, which wait and which are no longer needed, leases the ones that go, has the
/// handler send each batch, and records the outcome with the shared retry rule. Stored HTTP calls are one handler
/// (`OutboxDeliverer`); a service adds its own for messages it renders at delivery (NightOwl's notifications).
public protocol OutboxHandler: Sendable {
    /// The `handler` of its messages in the outbox.
    var name: String { get }
    var policy: RetryPolicy { get }
    /// How long a claimed batch is the claiming worker's before another may take it.
    var lease: TimeInterval { get }
    /// The longest one delivery takes: a batch whose lease would run out meanwhile is left to the next claim.
    var deliveryTimeout: TimeInterval { get }
    /// How many due messages one claim looks at.
    var claimLimit: Int { get }
    /// A number in 0..<1 for the jitter of each retry's delay.
    var random: @Sendable () -> Double { get }

    /// What to do with due messages, locked in this transaction: batches to send (each one delivery), messages to hold
    /// back until a time, messages to cancel with a reason. A message in none of them stays due.
    func plan(_ due: [OutboxItem], at instant: Date, on connection: PostgresConnection) async throws -> OutboxPlan
    /// Sends a live batch; sandbox batches are recorded as sandboxed without it.
    func deliver(_ batch: OutboxBatch, tenant: Tenant) async -> OutboxDelivery
    /// In the transaction that records a batch's outcome: what the service keeps of it besides the outbox.
    func settled(_ batch: OutboxBatch, as status: OutboxStatus, outcome: DeliveryOutcome, at instant: Date,
                 on connection: PostgresConnection) async throws
    /// After that transaction commits (metrics).
    func recorded(_ batch: OutboxBatch, as status: OutboxStatus, tenant: Tenant)
}

extension OutboxHandler {
    /// Each message on its own.
    public func plan(_ due: [OutboxItem], at instant: Date, on connection: PostgresConnection) async throws -> OutboxPlan {
        OutboxPlan(batches: due.map { OutboxBatch(items: [$0]) })
    }

    public func settled(_ batch: OutboxBatch, as status: OutboxStatus, outcome: DeliveryOutcome, at instant: Date,
                        on connection: PostgresConnection) async throws {}

    public func recorded(_ batch: OutboxBatch, as status: OutboxStatus, tenant: Tenant) {}
}

public enum OutboxStatus: String, Sendable, Codable, CaseIterable {
    case pending, sending, sent, sandboxed, failed, cancelled
}

/// A due message as its handler sees it.
public struct OutboxItem: Sendable {
    public var id: UUID
    public var key: String
    public var provider: String
    public var mode: ProviderMode
    /// Attempts so far; once leased, including the one under way.
    public var attempts: Int
    public var subjectID: UUID?
    public var stage: Int?
    /// A handler's message: how it goes, to whom, and what it says.
    public var channel: String?
    public var recipient: String?
    public var payload: JSONValue?
    /// A stored HTTP call (`http` handler).
    public var request: OutboundMessage?
}

/// Messages that go out as one delivery.
public struct OutboxBatch: Sendable {
    public var items: [OutboxItem]

    public init(items: [OutboxItem]) { self.items = items }

    public var ids: [UUID] { items.map(\.id) }
    /// Sandbox when its first message is: a batch is made of messages to one recipient by one channel.
    public var mode: ProviderMode { items.first?.mode ?? .sandbox }
    public var provider: String { items.first?.provider ?? "" }
    /// The most attempts of its messages: the count the retry rule goes by.
    public var attempts: Int { items.map(\.attempts).max() ?? 0 }
}

public struct OutboxPlan: Sendable {
    public var batches: [OutboxBatch]
    public var held: [(ids: [UUID], until: Date)]
    public var cancelled: [(id: UUID, reason: String)]

    public init(batches: [OutboxBatch] = [], held: [(ids: [UUID], until: Date)] = [], cancelled: [(id: UUID, reason: String)] = []) {
        self.batches = batches
        self.held = held
        self.cancelled = cancelled
    }
}

/// What one delivery came to, and the HTTP status it was answered with when there was one.
public struct OutboxDelivery: Sendable {
    public var outcome: DeliveryOutcome
    public var statusCode: Int?

    public init(_ outcome: DeliveryOutcome, statusCode: Int? = nil) {
        self.outcome = outcome
        self.statusCode = statusCode
    }
}

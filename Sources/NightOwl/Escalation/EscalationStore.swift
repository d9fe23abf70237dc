import Foundation
import OwlCore
import PostgresNIO

/// SQL for escalation policies, the engine's state, its events and the notification outbox.
struct EscalationStore {
    let logger: Logger

    static let columns = "id, name, description, severity_threshold, repeat_count, is_default, tiers::text, created_at, updated_at"

    static func decode(_ row: PostgresRow) throws -> EscalationPolicy {
        let (id, name, description, threshold, repeats, isDefault, tiers, created, updated) =
            try row.decode((UUID, String, String, String, Int, Bool, String, Date, Date).self)
        return EscalationPolicy(id: id, name: name, description: description, severityThreshold: Severity(rawValue: threshold) ?? .critical,
                                repeatCount: repeats, isDefault: isDefault,
                                tiers: try JSON.decoder().decode([EscalationTier].self, from: Data(tiers.utf8)),
                                createdAt: created, updatedAt: updated)
    }

    static func tiersJSON(_ tiers: [EscalationTier]) throws -> String {
        String(decoding: try JSON.encoder.encode(tiers), as: UTF8.self)
    }

    func get(_ id: UUID, lock: Bool = false, on connection: PostgresConnection) async throws -> EscalationPolicy? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM escalation_policies WHERE id = \(id) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    func list(page: OffsetPage, on connection: PostgresConnection) async throws -> ([EscalationPolicy], Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM escalation_policies ORDER BY lower(name), id
            LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger)
        let (items, total) = try await rows.page(Self.decode)
        return (items, total)
    }

    /// Inserts or replaces `policy`; referenced rosters and users must exist. A new default replaces the old one.
    func save(_ policy: EscalationPolicy, creating: Bool, on connection: PostgresConnection) async throws -> EscalationPolicy {
        try await checkReferences(policy.tiers, on: connection)
        if policy.isDefault {
            try await connection.query("UPDATE escalation_policies SET is_default = false WHERE is_default AND id <> \(policy.id)", logger: logger)
        }
        let tiers = try Self.tiersJSON(policy.tiers)
        do {
            let rows = try await connection.query(creating ? """
                INSERT INTO escalation_policies (id, name, description, severity_threshold, repeat_count, is_default, tiers)
                VALUES (\(policy.id), \(policy.name), \(policy.description), \(policy.severityThreshold.rawValue), \(policy.repeatCount),
                        \(policy.isDefault), \(tiers)::jsonb)
                RETURNING \(unescaped: Self.columns)
                """ : """
                UPDATE escalation_policies SET name = \(policy.name), description = \(policy.description),
                    severity_threshold = \(policy.severityThreshold.rawValue), repeat_count = \(policy.repeatCount),
                    is_default = \(policy.isDefault), tiers = \(tiers)::jsonb, updated_at = now()
                WHERE id = \(policy.id) RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a policy named '\(policy.name)' already exists")
        }
        throw APIError.notFound("escalation policy")
    }

    func delete(_ id: UUID, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("DELETE FROM escalation_policies WHERE id = \(id) RETURNING id", logger: logger)
        for try await _ in rows { return true }
        return false
    }

    private func checkReferences(_ tiers: [EscalationTier], on connection: PostgresConnection) async throws {
        var rosters: [UUID] = []
        var users: [UUID] = []
        for target in tiers.flatMap(\.targets) {
            switch target {
            case .rosterPrimary(let id), .rosterSecondary(let id): rosters.append(id)
            case .user(let id): users.append(id)
            default: break
            }
        }
        if !rosters.isEmpty {
            var known = Set<UUID>()
            for try await id in try await connection.query("SELECT id FROM rosters WHERE id = ANY(\(rosters))", logger: logger).decode(UUID.self) {
                known.insert(id)
            }
            if let missing = rosters.first(where: { !known.contains($0) }) {
                throw APIError.validation("roster \(missing.uuidString.lowercased()) does not exist", field: "tiers")
            }
        }
        try await RosterStore(logger: logger).requireUsers(users, field: "tiers", on: connection)
    }

    // MARK: Events and notifications

    func events(alert: UUID, on connection: PostgresConnection) async throws -> [EscalationEventRecord] {
        let rows = try await connection.query("""
            SELECT id, alert_id, policy_id, tier, repeat, target::text, user_id, recipient, method, outcome, error, notification_id, created_at
            FROM escalation_events WHERE alert_id = \(alert) ORDER BY created_at, tier, method, recipient
            """, logger: logger)
        var result: [EscalationEventRecord] = []
        for try await row in rows { result.append(try EscalationEventRecord(row)) }
        return result
    }

    func notifications(page: CursorPage, status: String?, alert: UUID?, on connection: PostgresConnection) async throws -> [OutboxRecord] {
        let rows = try await connection.query("""
            SELECT \(unescaped: OutboxRecord.columns) FROM notification_outbox
            WHERE (\(status)::text IS NULL OR status = \(status)) AND (\(alert)::uuid IS NULL OR alert_id = \(alert))
              AND (\(page.after?.micros)::bigint IS NULL
                   OR (created_at, id) < (timestamptz 'epoch' + \(page.after?.micros)::bigint * interval '1 microsecond', \(page.after?.id)))
            ORDER BY created_at DESC, id DESC LIMIT \(page.rowsToFetch)
            """, logger: logger)
        var result: [OutboxRecord] = []
        for try await row in rows { result.append(try OutboxRecord(row)) }
        return result
    }
}

/// A row of `escalation_events`.
struct EscalationEventRecord: Sendable, Encodable {
    var id: UUID
    var alertID: UUID
    var policyID: UUID
    var tier: Int
    var repetition: Int
    var target: JSONValue
    var userID: UUID?
    var recipient: String
    var method: String
    var outcome: String
    var error: String?
    var notificationID: UUID?
    var createdAt: Date

    init(_ row: PostgresRow) throws {
        let (id, alert, policy, tier, repetition, target, user, recipient, method, outcome, error, notification, created) =
            try row.decode((UUID, UUID, UUID, Int, Int, String, UUID?, String, String, String, String?, UUID?, Date).self)
        self.id = id
        alertID = alert
        policyID = policy
        self.tier = tier
        self.repetition = repetition
        self.target = JSONValue.parse(target) ?? .null
        userID = user
        self.recipient = recipient
        self.method = method
        self.outcome = outcome
        self.error = error
        notificationID = notification
        createdAt = created
    }

    enum CodingKeys: String, CodingKey {
        case id, tier, target, recipient, method, outcome, error
        case alertID = "alert_id", policyID = "policy_id", repetition = "repeat", userID = "user_id", notificationID = "notification_id"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(alertID, forKey: .alertID)
        try c.encode(policyID, forKey: .policyID)
        try c.encode(tier + 1, forKey: .tier)
        try c.encode(repetition, forKey: .repetition)
        try c.encode(target, forKey: .target)
        try c.encode(userID, forKey: .userID)
        try c.encode(recipient, forKey: .recipient)
        try c.encode(method, forKey: .method)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(error, forKey: .error)
        try c.encode(notificationID, forKey: .notificationID)
        try c.encode(createdAt, forKey: .createdAt)
    }
}

/// A row of `notification_outbox`, as `GET /api/v1/notifications` shows it.
struct OutboxRecord: Sendable, Encodable {
    static let columns = """
        id, alert_id, step, provider, method, mode, recipient, payload::text, status, attempts, next_attempt_at, last_error,
        provider_reference, created_at, sent_at
        """
    var id: UUID
    var alertID: UUID?
    var step: Int?
    var provider: String
    var method: String
    var mode: String
    var recipient: String
    var payload: JSONValue
    var status: String
    var attempts: Int
    var nextAttemptAt: Date
    var lastError: String?
    var providerReference: String?
    var createdAt: Date
    var sentAt: Date?

    init(_ row: PostgresRow) throws {
        let (id, alert, step, provider, method, mode, recipient, payload, status, attempts, next, error, reference, created, sent) =
            try row.decode((UUID, UUID?, Int?, String, String, String, String, String, String, Int, Date, String?, String?, Date, Date?).self)
        self.id = id
        alertID = alert
        self.step = step
        self.provider = provider
        self.method = method
        self.mode = mode
        self.recipient = recipient
        self.payload = JSONValue.parse(payload) ?? .null
        self.status = status
        self.attempts = attempts
        nextAttemptAt = next
        lastError = error
        providerReference = reference
        createdAt = created
        sentAt = sent
    }

    enum CodingKeys: String, CodingKey {
        case id, step, provider, method, mode, recipient, payload, status, attempts
        case alertID = "alert_id", nextAttemptAt = "next_attempt_at", lastError = "last_error", providerReference = "provider_reference"
        case createdAt = "created_at", sentAt = "sent_at"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(alertID, forKey: .alertID)
        try c.encode(step, forKey: .step)
        try c.encode(provider, forKey: .provider)
        try c.encode(method, forKey: .method)
        try c.encode(mode, forKey: .mode)
        try c.encode(recipient, forKey: .recipient)
        try c.encode(payload, forKey: .payload)
        try c.encode(status, forKey: .status)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(nextAttemptAt, forKey: .nextAttemptAt)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(providerReference, forKey: .providerReference)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(sentAt, forKey: .sentAt)
    }
}

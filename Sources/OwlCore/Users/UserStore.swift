import Foundation
import PostgresNIO

/// SQL for the tenant's `users` table. Every method runs on a connection whose search_path is the tenant's.
public struct UserStore: Sendable {
    let database: Database
    public init(database: Database) { self.database = database }

    public static let columns = "id, external_id, email, display_name, role, is_active, timezone, phone, slack_user_id, created_at, updated_at"

    public static func decode(_ row: PostgresRow) throws -> User {
        let (id, external, email, name, role, active, timezone, phone, slack, created, updated) =
            try row.decode((UUID, String?, String, String, String, Bool, String, String?, String?, Date, Date).self)
        return User(id: id, externalID: external, email: email, displayName: name, role: Role(rawValue: role) ?? .readonly,
                    isActive: active, timezone: timezone, phone: phone, slackUserID: slack, createdAt: created, updatedAt: updated)
    }

    func create(_ input: CreateUserRequest, on connection: PostgresConnection) async throws -> User {
        do {
            let rows = try await connection.query("""
                INSERT INTO users (email, display_name, role, external_id, timezone, phone, slack_user_id)
                VALUES (\(input.email), \(input.displayName), \(input.role.rawValue), \(input.externalID),
                        \(input.timezone ?? "UTC"), \(input.phone), \(input.slackUserID))
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            for try await row in rows { return try Self.decode(row) }
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a user with this email or external id already exists")
        }
        throw APIError.conflict("the user could not be created")
    }

    func get(_ id: UUID, on connection: PostgresConnection) async throws -> User? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM users WHERE id = \(id)", logger: database.logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    func list(page: OffsetPage, activeOnly: Bool, on connection: PostgresConnection) async throws -> (users: [User], total: Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM users
            WHERE (\(activeOnly) = false OR is_active)
            ORDER BY display_name, id LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: database.logger)
        var (users, total) = try await rows.page(Self.decode)
        if users.isEmpty, page.offset > 0 {
            let count = try await connection.query("SELECT count(*) FROM users WHERE (\(activeOnly) = false OR is_active)", logger: database.logger)
            for try await n in count.decode(Int.self) { total = n }
        }
        return (users, total)
    }

    /// Applies the fields that are present; returns the user before and after, for the audit diff.
    func update(_ id: UUID, _ input: UpdateUserRequest, on connection: PostgresConnection) async throws -> (before: User, after: User)? {
        var before: User?
        for try await row in try await connection.query("SELECT \(unescaped: Self.columns) FROM users WHERE id = \(id) FOR UPDATE",
                                                        logger: database.logger) {
            before = try Self.decode(row)
        }
        guard let before else { return nil }
        do {
            let rows = try await connection.query("""
                UPDATE users SET
                    email = \(input.email ?? before.email),
                    display_name = \(input.displayName ?? before.displayName),
                    role = \(input.role?.rawValue ?? before.role.rawValue),
                    is_active = \(input.isActive ?? before.isActive),
                    timezone = \(input.timezone ?? before.timezone),
                    phone = \(input.phone.applied(to: before.phone)),
                    slack_user_id = \(input.slackUserID.applied(to: before.slackUserID)),
                    updated_at = now()
                WHERE id = \(id)
                RETURNING \(unescaped: Self.columns)
                """, logger: database.logger)
            for try await row in rows { return (before, try Self.decode(row)) }
        } catch where PostgresErrorCode.isUniqueViolation(error) {
            throw APIError.conflict("a user with this email already exists")
        }
        return nil
    }

    /// The user a token belongs to: by subject first, then by email.
    /// A user of a tenant by id, outside a tenant transaction (sessions).
    func find(id: UUID, in slug: TenantSlug) async throws -> User? {
        try await database.withTenant(slug) { try await get(id, on: $0) }
    }

    func find(subject: String, email: String?, in slug: TenantSlug) async throws -> User? {
        try await database.withTenant(slug) { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: Self.columns) FROM users
                WHERE external_id = \(subject) OR (\(email) IS NOT NULL AND lower(email) = lower(\(email)))
                ORDER BY (external_id = \(subject)) DESC NULLS LAST LIMIT 1
                """, logger: database.logger)
            for try await row in rows { return try Self.decode(row) }
            return nil
        }
    }

    /// Seeds a user if the email is new (idempotent seeding).
    public func ensure(email: String, displayName: String, role: Role, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO users (email, display_name, role) VALUES (\(email), \(displayName), \(role.rawValue))
            ON CONFLICT ((lower(email))) DO NOTHING
            """, logger: database.logger)
    }
}

import Foundation
import PostgresNIO

/// Single-use links that let a user set their password (an invitation, or a reset an admin sends); stored hashed.
public struct PasswordLinkStore: Sendable {
    let database: Database
    public static let lifetime: TimeInterval = 72 * 3_600

    public init(database: Database) { self.database = database }

    /// A new link's token for a user; earlier unused links of the user stop working.
    public func create(tenantID: UUID, userID: UUID, at now: Date) async throws -> (token: String, expiresAt: Date) {
        let token = WebToken.make()
        let expires = now.addingTimeInterval(Self.lifetime)
        try await database.transaction { connection in
            try await connection.query("""
                UPDATE public.password_links SET used_at = \(now) WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND used_at IS NULL
                """, logger: database.logger)
            try await connection.query("""
                INSERT INTO public.password_links (token_hash, tenant_id, user_id, created_at, expires_at)
                VALUES (\(WebToken.hash(token)), \(tenantID), \(userID), \(now), \(expires))
                """, logger: database.logger)
        }
        return (token, expires)
    }

    /// The tenant and user of a link that is unused and unexpired.
    public func find(_ token: String, at now: Date) async throws -> (tenantID: UUID, userID: UUID)? {
        for try await row in try await database.client.query("""
            SELECT tenant_id, user_id FROM public.password_links
            WHERE token_hash = \(WebToken.hash(token)) AND used_at IS NULL AND expires_at > \(now)
            """, logger: database.logger).decode((UUID, UUID).self) { return row }
        return nil
    }

    /// Uses the link up; false when it was used or expired meanwhile (two tabs).
    public func use(_ token: String, at now: Date) async throws -> Bool {
        var used = false
        for try await _ in try await database.client.query("""
            UPDATE public.password_links SET used_at = \(now)
            WHERE token_hash = \(WebToken.hash(token)) AND used_at IS NULL AND expires_at > \(now) RETURNING 1
            """, logger: database.logger).decode(Int.self) { used = true }
        return used
    }
}

import Foundation
import Logging
import PostgresNIO

/// The SQL of browser sessions (in `public`: the cookie is read before the tenant is known).
public struct SessionStore: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    /// A new session; returns the cookie's value and the CSRF token. Never reuses an id (no fixation): `replacing`, the
    /// session the browser had before signing in, is ended.
    public func create(tenantID: UUID, userID: UUID, method: SignInMethod, userAgent: String?, ipAddress: String?, at now: Date,
                       settings: SessionSettings, replacing previous: String? = nil) async throws -> (cookie: String, csrf: String) {
        let cookie = WebToken.make()
        let csrf = WebToken.make()
        try await database.transaction { connection in
            if let previous {
                try await connection.query("DELETE FROM public.web_sessions WHERE id_hash = \(WebToken.hash(previous))", logger: database.logger)
            }
            // The tenant's sessions that ended without a sign-out go when the next one starts.
            try await connection.query("""
                DELETE FROM public.web_sessions
                WHERE tenant_id = \(tenantID) AND (expires_at < \(now) OR last_seen_at < \(now.addingTimeInterval(-settings.idleTimeout)))
                """, logger: database.logger)
            try await connection.query("""
                INSERT INTO public.web_sessions (id_hash, tenant_id, user_id, csrf_token, method, user_agent, ip_address, created_at,
                                                 last_seen_at, expires_at)
                VALUES (\(WebToken.hash(cookie)), \(tenantID), \(userID), \(csrf), \(method.rawValue), \(userAgent.map { String($0.prefix(300)) }),
                        \(ipAddress), \(now), \(now), \(now.addingTimeInterval(settings.lifetime)))
                """, logger: database.logger)
        }
        return (cookie, csrf)
    }

    /// A live session, its tenant and its CSRF token.
    public struct Resumed: Sendable {
        public var session: WebSession
        public var tenant: Tenant
        public var csrf: String
    }

    /// The live session of a cookie; a session past its expiry or idle timeout is deleted and nil. The last-seen time
    /// is written at most once a minute.
    public func resume(_ cookie: String, at now: Date, idleTimeout: TimeInterval) async throws -> Resumed? {
        let hash = WebToken.hash(cookie)
        var found: Resumed?
        for try await (id, tenantID, name, slug, tenantCreated, user, csrf, method, agent, ip, created, seen, expires) in try await database.client.query("""
            SELECT s.public_id, s.tenant_id, t.name, t.slug, t.created_at, s.user_id, s.csrf_token, s.method, s.user_agent, s.ip_address,
                   s.created_at, s.last_seen_at, s.expires_at
            FROM public.web_sessions s JOIN public.tenants t ON t.id = s.tenant_id WHERE s.id_hash = \(hash)
            """, logger: database.logger).decode((UUID, UUID, String, String, Date, UUID, String, String, String?, String?, Date, Date, Date).self) {
            guard let slug = TenantSlug(slug) else { continue }
            found = Resumed(session: WebSession(id: id, tenantID: tenantID, userID: user, method: SignInMethod(rawValue: method) ?? .password,
                                                userAgent: agent, ipAddress: ip, createdAt: created, lastSeenAt: seen, expiresAt: expires),
                            tenant: Tenant(id: tenantID, name: name, slug: slug, createdAt: tenantCreated), csrf: csrf)
        }
        guard var resumed = found else { return nil }
        var session = resumed.session
        guard session.isLive(at: now, idleTimeout: idleTimeout) else {
            try await database.client.query("DELETE FROM public.web_sessions WHERE id_hash = \(hash)", logger: database.logger)
            return nil
        }
        if now.timeIntervalSince(session.lastSeenAt) >= 60 {
            try await database.client.query("UPDATE public.web_sessions SET last_seen_at = \(now) WHERE id_hash = \(hash)", logger: database.logger)
            session.lastSeenAt = now
        }
        resumed.session = session
        return resumed
    }

    /// Ends the session of a cookie (sign-out).
    public func end(_ cookie: String) async throws {
        try await database.client.query("DELETE FROM public.web_sessions WHERE id_hash = \(WebToken.hash(cookie))", logger: database.logger)
    }

    /// Ends every session of a user, or one of them by its public id; returns how many ended.
    @discardableResult
    public func end(tenantID: UUID, userID: UUID, session: UUID? = nil) async throws -> Int {
        var count = 0
        for try await _ in try await database.client.query("""
            DELETE FROM public.web_sessions WHERE tenant_id = \(tenantID) AND user_id = \(userID)
              AND (\(session)::uuid IS NULL OR public_id = \(session)) RETURNING 1
            """, logger: database.logger).decode(Int.self) { count += 1 }
        return count
    }

    /// A user's live sessions, newest first.
    public func list(tenantID: UUID, userID: UUID, at now: Date, idleTimeout: TimeInterval) async throws -> [WebSession] {
        var sessions: [WebSession] = []
        for try await (id, method, agent, ip, created, seen, expires) in try await database.client.query("""
            SELECT public_id, method, user_agent, ip_address, created_at, last_seen_at, expires_at FROM public.web_sessions
            WHERE tenant_id = \(tenantID) AND user_id = \(userID) AND expires_at > \(now) AND last_seen_at > \(now.addingTimeInterval(-idleTimeout))
            ORDER BY created_at DESC
            """, logger: database.logger).decode((UUID, String, String?, String?, Date, Date, Date).self) {
            sessions.append(WebSession(id: id, tenantID: tenantID, userID: userID, method: SignInMethod(rawValue: method) ?? .password,
                                       userAgent: agent, ipAddress: ip, createdAt: created, lastSeenAt: seen, expiresAt: expires))
        }
        return sessions
    }
}

import Foundation
import Hummingbird
import Logging
import Synchronization

/// Works out who is calling. Precedence: OIDC JWT → API key (`X-API-Key`, or `Authorization: Bearer ow_…`) →
/// `X-Tenant-Slug` (dev mode only, grants admin). Credentials that are present but wrong are a 401, never a
/// fall-through to a weaker method.
public struct Authenticator: Sendable {
    let apiKeys: APIKeyStore
    let tenants: TenantStore
    let users: UserStore
    public let oidc: OIDCVerifier?
    let devMode: Bool
    let lastUsed: LastUsedTracker
    let keyCache: APIKeyCache
    let logger: Logger
    let clock: WallClock
    let sessions: SessionStore
    public let cookie: SessionCookie
    let sessionSettings: SessionSettings

    public init(database: Database, oidc: OIDCVerifier?, devMode: Bool, logger: Logger, clock: WallClock,
                cookie: SessionCookie, sessionSettings: SessionSettings) {
        self.clock = clock
        sessions = SessionStore(database: database)
        self.cookie = cookie
        self.sessionSettings = sessionSettings
        apiKeys = APIKeyStore(database: database)
        tenants = TenantStore(database: database)
        users = UserStore(database: database)
        self.oidc = oidc
        self.devMode = devMode
        self.lastUsed = LastUsedTracker()
        self.keyCache = APIKeyCache()
        self.logger = logger
    }

    /// nil when the request carries no credentials at all.
    public func authenticate(_ request: Request) async throws -> Principal? {
        let bearer = request.headers[.authorization].flatMap(Self.bearerToken)
        if let bearer, !APIKeyMaterial.isPlausible(bearer) {
            return try await authenticateJWT(bearer)
        }
        if let key = request.headers[.xAPIKey] ?? bearer {
            return try await authenticateAPIKey(key)
        }
        if devMode, let slugText = request.headers[.xTenantSlug] {
            guard let slug = TenantSlug(slugText), let tenant = try await tenants.find(slug: slug) else {
                throw APIError.unauthorized("unknown tenant in X-Tenant-Slug")
            }
            return Principal(tenant: tenant, role: .admin, method: .devHeader, actor: "dev:\(slug)")
        }
        if let value = CookieHeader.value(cookie.name, in: request.headers[.cookie]) {
            return try await authenticateSession(value)
        }
        return nil
    }

    /// A browser's session cookie. One that has ended (expired, signed out, its user deactivated) signs in no one: the
    /// request is anonymous, so that a page sends the browser to sign in again.
    func authenticateSession(_ value: String) async throws -> Principal? {
        guard let resumed = try await sessions.resume(value, at: clock.now, idleTimeout: sessionSettings.idleTimeout) else { return nil }
        let user = try await users.find(id: resumed.session.userID, in: resumed.tenant.slug)
        guard let user, user.isActive else { return nil }
        var principal = Principal(tenant: resumed.tenant, role: user.role, method: .session, actor: user.email, userID: user.id, email: user.email)
        principal.csrfToken = resumed.csrf
        principal.sessionID = resumed.session.id
        return principal
    }

    static func bearerToken(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// Authenticates a raw API key (also used for keys that arrive in a body, such as PagerDuty's `routing_key`).
    public func authenticateAPIKey(_ raw: String) async throws -> Principal {
        guard APIKeyMaterial.isPlausible(raw) else { throw APIError.unauthorized("invalid, expired or revoked API key") }
        let hash = APIKeyMaterial.hash(raw)
        let found: APIKeyCache.Entry?
        if let cached = keyCache.lookup(hash) {
            found = cached
        } else if let (key, tenant) = try await apiKeys.authenticate(hash: hash) {
            let principal = Principal(tenant: tenant, role: key.role, method: .apiKey, actor: "api_key:\(key.keyPrefix)",
                                      apiKeyID: key.id, apiKeyPrefix: key.keyPrefix, scopes: key.scopes)
            found = APIKeyCache.Entry(key: key, principal: principal)
            keyCache.store(hash, found!)
        } else {
            found = nil
        }
        guard let found, found.key.expiresAt.map({ $0 > clock.now }) ?? true else {
            throw APIError.unauthorized("invalid, expired or revoked API key")
        }
        let key = found.key
        if lastUsed.shouldRecord(key.id) {
            let store = apiKeys
            let logger = logger
            Task {
                do { try await store.touch(id: key.id) } catch {
                    logger.warning("could not record API key use", metadata: ["error": .string(String(reflecting: error))])
                }
            }
        }
        return found.principal
    }

    func authenticateJWT(_ token: String) async throws -> Principal {
        guard let oidc else { throw APIError.unauthorized("bearer tokens are not accepted: OIDC is not configured") }
        let claims: OIDCClaims
        do {
            claims = try await oidc.verify(token)
        } catch .issuerUnavailable {
            throw APIError(.serviceUnavailable, code: "identity_provider_unavailable", message: "the identity provider's keys could not be loaded")
        } catch .invalidToken(let reason) {
            throw APIError.unauthorized("invalid token: \(reason)")
        }
        let settings = oidc.settings
        guard let slugText = claims.string(settings.tenantClaim), let slug = TenantSlug(slugText),
              let tenant = try await tenants.find(slug: slug) else {
            throw APIError.unauthorized("token names no known tenant in claim '\(settings.tenantClaim)'")
        }
        let email = claims.string("email")
        let user = try await users.find(subject: claims.subject.value, email: email, in: slug)
        if let user, !user.isActive { throw APIError.forbidden("user is deactivated") }
        let claimedRole = claims.string(settings.roleClaim).flatMap(Role.init(rawValue:))
        let role = claimedRole ?? user?.role ?? .readonly
        return Principal(tenant: tenant, role: role, method: .jwt, actor: email ?? claims.subject.value,
                         userID: user?.id, email: email)
    }
}

/// Recently verified keys, for a few seconds: a busy webhook sender costs one lookup every few seconds, not one per
/// request. Revoking through this process forgets the key at once; other processes notice within `lifetime`. A lock,
/// not an actor: every authenticated request asks, and the critical sections are a dictionary access.
public final class APIKeyCache: Sendable {
    /// A verified key and the principal it authenticates as.
    struct Entry: Sendable {
        let key: APIKey
        let principal: Principal
    }

    private let entries = Mutex<[String: (entry: Entry, expires: ContinuousClock.Instant)]>([:])
    let lifetime: Duration

    public init(lifetime: Duration = .seconds(5)) { self.lifetime = lifetime }

    func lookup(_ hash: String, now: ContinuousClock.Instant = .now) -> Entry? {
        entries.withLock { entries in
            guard let cached = entries[hash] else { return nil }
            guard cached.expires > now else {
                entries[hash] = nil
                return nil
            }
            return cached.entry
        }
    }

    func store(_ hash: String, _ entry: Entry) {
        let expires = ContinuousClock.now + lifetime
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[hash] = (entry, expires)
        }
    }

    /// Forgets a key (after it was revoked).
    public func forget(keyID: UUID) {
        entries.withLock { entries in entries = entries.filter { $0.value.entry.key.id != keyID } }
    }
}

/// Remembers when each key's use was last written, so a busy key costs one UPDATE a minute, not one per request.
final class LastUsedTracker: Sendable {
    private let written = Mutex<[UUID: ContinuousClock.Instant]>([:])

    func shouldRecord(_ id: UUID, now: ContinuousClock.Instant = .now) -> Bool {
        written.withLock { written in
            if let last = written[id], now - last < .seconds(60) { return false }
            if written.count > 10_000 { written.removeAll() }
            written[id] = now
            return true
        }
    }
}

/// Sets `context.principal` when the request carries valid credentials; routes decide whether they need one.
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let authenticator: Authenticator
    public init(authenticator: Authenticator) { self.authenticator = authenticator }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let principal = try await authenticator.authenticate(request) {
            context.principal = principal
            context.logger[metadataKey: "tenant"] = .string(principal.tenant.slug.value)
            context.logger[metadataKey: "actor"] = .string(principal.actor)
        }
        return try await next(request, context)
    }
}

import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import PostgresNIO

/// The rules of local accounts: what a password must be, and how many failed sign-ins are allowed. Pure, tested with
/// tables.
public enum PasswordRules {
    public static let minimumLength = 12
    /// bcrypt reads at most 72 bytes; a longer password would be cut without the user knowing.
    public static let maximumBytes = 72

    public static func problem(with password: String) -> String? {
        if password.count < minimumLength { return "must be at least \(minimumLength) characters" }
        if password.utf8.count > maximumBytes { return "must be at most \(maximumBytes) bytes" }
        if password.trimmingCharacters(in: .whitespaces).isEmpty { return "must not be only spaces" }
        return nil
    }
}

/// How many failed sign-ins within `window` lock an account or refuse an address.
public struct SignInLimits: Sendable, Equatable {
    public var perAccount = 5
    public var perAddress = 20
    public var window: TimeInterval = 15 * 60

    public init() {}

    /// The account or address is refused until the oldest failure in the window leaves it.
    public func lockedUntil(failures: [Date], limit: Int, at now: Date) -> Date? {
        let recent = failures.filter { now.timeIntervalSince($0) < window }.sorted()
        guard recent.count >= limit else { return nil }
        return recent[recent.count - limit].addingTimeInterval(window)
    }
}

/// What a sign-in with email and password came to. Unknown tenants, unknown users, accounts without a password,
/// deactivated users and wrong passwords all read `.invalid`, so the answer tells nothing about who has an account.
public enum PasswordSignInResult: Sendable, Equatable {
    case signedIn(tenant: Tenant, userID: UUID)
    case invalid
    case locked(until: Date)
}

/// Email-and-password accounts: bcrypt hashes (hummingbird-auth's), verified off the event loops; failed attempts
/// limited per account and per address.
public struct LocalAccounts: Sendable {
    let database: Database
    let limits: SignInLimits
    /// bcrypt's cost: 12 in the services; tests use the minimum.
    let cost: UInt8
    /// A hash to verify against when there is no account, so that an unknown email takes as long as a wrong password.
    let decoy: String

    public init(database: Database, limits: SignInLimits = SignInLimits(), cost: UInt8 = 12) {
        self.database = database
        self.limits = limits
        self.cost = cost
        decoy = Bcrypt.hash("owl decoy password, never valid", cost: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    public func signIn(tenant slug: String, email: String, password: String, address: String?, at now: Date) async throws -> PasswordSignInResult {
        let email = email.trimmingCharacters(in: .whitespaces).lowercased()
        let accountKey = "account:\(slug.lowercased()):\(email)"
        let addressKey = address.map { "address:\($0)" }
        let keys = [accountKey] + (addressKey.map { [$0] } ?? [])
        // This attempt counts as a failure until the password is found right, so that attempts made at the same
        // moment see each other and cannot get past the limit together.
        try await recordFailure(keys, at: now)
        let failures = try await recentFailures(keys, at: now)
        let accountLock = limits.lockedUntil(failures: failures[accountKey] ?? [], limit: limits.perAccount, at: now)
        let addressLock = addressKey.flatMap { limits.lockedUntil(failures: failures[$0] ?? [], limit: limits.perAddress, at: now) }
        // Over the limit: this attempt is one more than allowed (the limit counts the attempts before it).
        if let until = [accountLock, addressLock].compactMap({ $0 }).max(),
           (failures[accountKey]?.count ?? 0) > limits.perAccount || addressKey.map({ (failures[$0]?.count ?? 0) > limits.perAddress }) == true {
            return .locked(until: until)
        }

        var account: (Tenant, UUID, String?, Bool)?
        if let tenantSlug = TenantSlug(slug.lowercased()), let tenant = try await TenantStore(database: database).find(slug: tenantSlug) {
            account = try await database.withTenant(tenantSlug) { connection in
                for try await (id, hash, active) in try await connection.query("""
                    SELECT id, password_hash, is_active FROM users WHERE lower(email) = \(email)
                    """, logger: database.logger).decode((UUID, String?, Bool).self) { return (tenant, id, hash, active) }
                return nil
            }
        }
        let matches = try await verify(password, hash: account?.2 ?? decoy)
        guard let (tenant, userID, hash, active) = account, hash != nil, active, matches else { return .invalid }
        // Signed in: the account starts afresh, and this attempt no longer counts against the address.
        try await database.client.query("""
            DELETE FROM public.sign_in_failures WHERE key = \(accountKey)
               OR ctid = (SELECT ctid FROM public.sign_in_failures WHERE key = \(addressKey) AND at = \(now) LIMIT 1)
            """, logger: database.logger)
        return .signedIn(tenant: tenant, userID: userID)
    }

    /// Sets the password of the user with `email` (`owl <service> user set-password`) and ends their sessions; false
    /// when the tenant has no such user.
    public func setPassword(_ password: String, email: String, tenant: TenantSlug, at now: Date) async throws -> Bool {
        var found: (UUID, UUID)?
        if let tenantRow = try await TenantStore(database: database).find(slug: tenant) {
            found = try await database.withTenant(tenant) { connection in
                for try await id in try await connection.query("SELECT id FROM users WHERE lower(email) = \(email.lowercased())",
                                                              logger: database.logger).decode(UUID.self) { return (tenantRow.id, id) }
                return nil
            }
        }
        guard let (tenantID, userID) = found, try await setPassword(password, userID: userID, tenant: tenant, at: now) else { return false }
        try await SessionStore(database: database).end(tenantID: tenantID, userID: userID)
        return true
    }

    /// Sets a user's password (already checked against `PasswordRules`).
    public func setPassword(_ password: String, userID: UUID, tenant: TenantSlug, at now: Date) async throws -> Bool {
        let hashed = try await hash(password)
        return try await database.withTenant(tenant) { connection in
            var updated = false
            for try await _ in try await connection.query("""
                UPDATE users SET password_hash = \(hashed), password_set_at = \(now), updated_at = \(now) WHERE id = \(userID) RETURNING 1
                """, logger: database.logger).decode(Int.self) { updated = true }
            return updated
        }
    }

    func recentFailures(_ keys: [String], at now: Date) async throws -> [String: [Date]] {
        var result: [String: [Date]] = [:]
        for try await (key, at) in try await database.client.query("""
            SELECT key, at FROM public.sign_in_failures WHERE key = ANY(\(keys)) AND at > \(now.addingTimeInterval(-limits.window))
            """, logger: database.logger).decode((String, Date).self) { result[key, default: []].append(at) }
        return result
    }

    func recordFailure(_ keys: [String], at now: Date) async throws {
        try await database.transaction { connection in
            try await connection.query("""
                INSERT INTO public.sign_in_failures (key, at) SELECT k, \(now) FROM unnest(\(keys)::text[]) AS t(k)
                """, logger: database.logger)
            try await connection.query("""
                DELETE FROM public.sign_in_failures WHERE key = ANY(\(keys)) AND at < \(now.addingTimeInterval(-limits.window))
                """, logger: database.logger)
        }
    }
}

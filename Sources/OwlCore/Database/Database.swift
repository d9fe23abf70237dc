import Foundation
import Logging
import PostgresNIO

/// The service's PostgreSQL pool and the one way to run tenant-scoped work.
public struct Database: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Runs `body` in a transaction whose `search_path` is the tenant's schema, set with `SET LOCAL` so that it
    /// ends with the transaction and a pooled connection never carries it into another request.
    ///
    /// `actor` is put in the transaction-local setting `owl.actor`, where database triggers (history) read who acted.
    public func withTenant<T: Sendable>(
        _ slug: TenantSlug, actor: String? = nil, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await transaction { connection in
            try await connection.query("SET LOCAL search_path TO \(unescaped: slug.quotedSchema), public", logger: logger)
            if let actor {
                try await connection.query("SELECT set_config('owl.actor', \(actor), true)", logger: logger)
            }
            return try await body(connection)
        }
    }

    /// Runs `body` in a transaction on the `public` schema; rolls back when `body` throws and rethrows its error unchanged.
    ///
    /// A transaction that PostgreSQL aborts with a serialization failure or a deadlock (SQLSTATE class 40) is run again
    /// from the start, up to `Self.conflictRetries` more times, after a short randomised pause: such an abort says only
    /// that another transaction won, and the same work succeeds on a second try. `body` must therefore keep its effects
    /// inside the transaction (anything it does outside happens once per try).
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await transactionOnce(body)
            } catch where PostgresErrorCode.isTransactionConflict(error) && attempt < Self.conflictRetries {
                attempt += 1
                logger.notice("transaction aborted by a concurrent one; trying again",
                              metadata: ["sqlstate": .string(PostgresErrorCode.code(of: error) ?? ""), "attempt": .stringConvertible(attempt)])
                try await Task.sleep(for: .milliseconds(Int.random(in: 5...20) * attempt))
            }
        }
    }

    /// How often a transaction aborted by a class-40 error is tried again.
    public static let conflictRetries = 3

    private func transactionOnce<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            let result: T
            do {
                result = try await body(connection)
            } catch {
                do { try await connection.query("ROLLBACK", logger: logger) } catch {
                    logger.warning("rollback failed", metadata: ["error": .string(String(reflecting: error))])
                }
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }

    /// Runs `body` on a pooled connection outside any transaction: each statement commits on its own. For statements
    /// that name their schema, so that nothing is left on the connection for the next user.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { try await body($0) }
    }

    /// Round-trip time of `SELECT 1`, or nil when the database does not answer within `timeout`.
    public func ping(timeout: Duration = .seconds(2)) async -> Duration? {
        let clock = ContinuousClock()
        let start = clock.now
        let ok = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await client.withConnection { try await $0.query("SELECT 1", logger: logger) }
                    return true
                } catch { return false }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return ok ? clock.now - start : nil
    }
}

/// Unique violation and friends, so stores can map them to 409s.
public enum PostgresErrorCode {
    public static func code(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
    public static func isUniqueViolation(_ error: any Error) -> Bool { code(of: error) == "23505" }
    public static func isForeignKeyViolation(_ error: any Error) -> Bool { code(of: error) == "23503" }
    /// Serialization failure (40001), deadlock (40P01) and the rest of class 40: the transaction lost to another and
    /// may be run again.
    public static func isTransactionConflict(_ error: any Error) -> Bool { code(of: error)?.hasPrefix("40") == true }
}

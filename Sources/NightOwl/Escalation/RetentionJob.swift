import Foundation
import Logging
import OwlCore
import PostgresNIO

/// Once a day per tenant: resolved alerts older than `retention_days_alerts` (default 90) are deleted with their
/// escalation events and messages; audit entries older than `retention_days_audit` (default 365) move to
/// `audit_log_archive`. Incidents and runbooks are never removed. The run is recorded in `maintenance_runs`, whose row
/// lock makes one worker do it even when several run.
public struct RetentionJob: Sendable {
    let database: Database
    let tenantConfig: TenantConfigService
    let logger: Logger
    let now: @Sendable () -> Date

    public init(database: Database, tenantConfig: TenantConfigService, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.tenantConfig = tenantConfig
        self.logger = logger
        self.now = now
    }

    public struct Result: Sendable, Equatable {
        public var alertsDeleted: Int
        public var auditArchived: Int
    }

    /// nil when the tenant's run is not due (or another worker holds it).
    public func run(_ tenant: Tenant, force: Bool) async throws -> Result? {
        let alertDays = try await days("retention_days_alerts", default: 90, tenant)
        let auditDays = try await days("retention_days_audit", default: 365, tenant)
        let instant = now()
        return try await database.withTenant(tenant.slug, actor: "retention") { connection -> Result? in
            try await connection.query("""
                INSERT INTO maintenance_runs (job, last_run_at) VALUES ('retention', '-infinity') ON CONFLICT (job) DO NOTHING
                """, logger: logger)
            var due = false
            for try await last in try await connection.query("""
                SELECT last_run_at FROM maintenance_runs WHERE job = 'retention' FOR UPDATE SKIP LOCKED
                """, logger: logger).decode(Date.self) { due = force || instant.timeIntervalSince(last) >= 86_400 }
            guard due else { return nil }
            var deleted = 0
            for try await n in try await connection.query("""
                WITH gone AS (DELETE FROM alerts WHERE status = 'resolved' AND resolved_at < \(instant) - make_interval(days => \(alertDays)::int) RETURNING 1)
                SELECT count(*) FROM gone
                """, logger: logger).decode(Int.self) { deleted = n }
            var archived = 0
            for try await n in try await connection.query("""
                WITH moved AS (DELETE FROM audit_log WHERE created_at < \(instant) - make_interval(days => \(auditDays)::int) RETURNING *),
                     kept AS (INSERT INTO audit_log_archive (id, actor, actor_type, action, resource, resource_id, diff, request_id, ip_address, created_at)
                              SELECT id, actor, actor_type, action, resource, resource_id, diff, request_id, ip_address, created_at FROM moved
                              ON CONFLICT (id) DO NOTHING RETURNING 1)
                SELECT count(*) FROM kept
                """, logger: logger).decode(Int.self) { archived = n }
            try await connection.query("""
                UPDATE maintenance_runs SET last_run_at = \(instant),
                    summary = jsonb_build_object('alerts_deleted', \(deleted)::int, 'audit_archived', \(archived)::int)
                WHERE job = 'retention'
                """, logger: logger)
            return Result(alertsDeleted: deleted, auditArchived: archived)
        }
    }

    func days(_ setting: String, default value: Int, _ tenant: Tenant) async throws -> Int {
        if case .number(let n)? = try await tenantConfig.setting(setting, tenantID: tenant.id) { return Int(n) }
        return value
    }
}

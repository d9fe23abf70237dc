import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Buffers audit entries and writes them in batches, one INSERT per tenant per flush, so that auditing never
/// adds a round trip to a request. Runs as a service: it flushes every `interval`, and once more when the
/// process is asked to stop, so a clean stop loses no entry. A failed flush keeps the entries for the next one.
public actor AuditWriter: Service {
    let database: Database
    let logger: Logger
    let interval: Duration
    let maximumBuffered: Int
    private var pending: [(TenantSlug, AuditEntry)] = []

    public init(database: Database, logger: Logger, interval: Duration = .milliseconds(500), maximumBuffered: Int = 100_000) {
        self.database = database
        self.logger = logger
        self.interval = interval
        self.maximumBuffered = maximumBuffered
    }

    public func record(_ entry: AuditEntry, tenant: TenantSlug) {
        if pending.count >= maximumBuffered {
            // The database has been unreachable for a long time; keep the newest entries and say so loudly.
            logger.error("audit buffer full; dropping the oldest entry", metadata: ["action": .string(pending[0].1.action)])
            pending.removeFirst()
        }
        pending.append((tenant, entry))
    }

    public var pendingCount: Int { pending.count }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.flush()
            }
        }
        // The loop ended because the process is stopping: write what is left.
        await flush()
    }

    /// Writes everything buffered. Safe to call at any time.
    public func flush() async {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending.removeAll()
        var failed: [(TenantSlug, AuditEntry)] = []
        for (slug, entries) in Dictionary(grouping: batch, by: { $0.0 }) {
            do {
                try await insert(entries.map(\.1), into: slug)
            } catch {
                logger.error("audit flush failed; will retry", metadata: ["tenant": .string(slug.value), "error": .string(String(reflecting: error))])
                failed.append(contentsOf: entries)
            }
        }
        pending.insert(contentsOf: failed, at: 0)
    }

    private func insert(_ entries: [AuditEntry], into slug: TenantSlug) async throws {
        // unnest takes no arrays with NULL elements from the client here, so absent values travel as '' and become NULL.
        try await database.client.query("""
            INSERT INTO \(unescaped: slug.quotedSchema).audit_log
                (id, actor, actor_type, action, resource, resource_id, diff, request_id, ip_address, created_at)
            SELECT id, actor, actor_type, action, resource, NULLIF(resource_id, ''), NULLIF(diff, '')::jsonb,
                   NULLIF(request_id, ''), NULLIF(ip_address, ''), created_at
            FROM unnest(\(entries.map(\.id))::uuid[], \(entries.map(\.actor))::text[], \(entries.map(\.actorType))::text[],
                        \(entries.map(\.action))::text[], \(entries.map(\.resource))::text[], \(entries.map { $0.resourceID ?? "" })::text[],
                        \(entries.map { $0.diff?.jsonText() ?? "" })::text[], \(entries.map { $0.requestID ?? "" })::text[],
                        \(entries.map { $0.ipAddress ?? "" })::text[], \(entries.map(\.createdAt))::timestamptz[])
                AS e(id, actor, actor_type, action, resource, resource_id, diff, request_id, ip_address, created_at)
            ON CONFLICT (id) DO NOTHING
            """, logger: logger)
    }
}

import Foundation
import Logging
import OwlCore
import PostgresNIO

/// The on-call log's SQL (migration 0018).
struct OnCallLogStore: Sendable {
    let logger: Logger

    static let columns = "started_at, ended_at, primary_id, secondary_id, shift_index, override_id, sub_roster, in_coverage_window"

    static func decode(_ row: PostgresRow) throws -> OnCallSegment {
        let (start, end, primary, secondary, shift, override, sub, inWindow) =
            try row.decode((Date, Date, UUID, UUID?, Int?, UUID?, Int?, Bool).self)
        return OnCallSegment(interval: DateInterval(start: start, end: end), primary: primary, secondary: secondary, shiftIndex: shift,
                             overrideID: override, subRoster: sub, inCoverageWindow: inWindow)
    }

    /// How far the roster's log reaches (nil before its first pass), with the roster's cursor locked for this
    /// transaction; `locked` when another worker's pass holds it.
    func cursor(_ roster: UUID, on connection: PostgresConnection) async throws -> (locked: Bool, recordedUntil: Date?) {
        try await connection.query("""
            INSERT INTO oncall_log_cursor (roster_id) VALUES (\(roster)) ON CONFLICT (roster_id) DO NOTHING
            """, logger: logger)
        for try await until in try await connection.query("""
            SELECT recorded_until FROM oncall_log_cursor WHERE roster_id = \(roster) FOR UPDATE SKIP LOCKED
            """, logger: logger).decode(Date?.self) {
            return (false, until)
        }
        return (true, nil)
    }

    /// The log's last `limit` rows that started before `before`, in order.
    func rows(_ roster: UUID, before: Date, limit: Int, on connection: PostgresConnection) async throws -> [OnCallSegment] {
        var rows: [OnCallSegment] = []
        for try await row in try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM oncall_log WHERE roster_id = \(roster) AND started_at < \(before)
            ORDER BY started_at DESC LIMIT \(limit)
            """, logger: logger) { rows.append(try Self.decode(row)) }
        return rows.reversed()
    }

    /// The log's rows that overlap `window`, in order, and the span the log covers (nil without a log).
    func rows(_ roster: UUID, overlapping window: DateInterval, on connection: PostgresConnection) async throws -> ([OnCallSegment], DateInterval?) {
        var span: DateInterval?
        for try await (first, until) in try await connection.query("""
            SELECT (SELECT min(started_at) FROM oncall_log WHERE roster_id = \(roster)), recorded_until
            FROM oncall_log_cursor WHERE roster_id = \(roster)
            """, logger: logger).decode((Date?, Date?).self) {
            if let first, let until, first < until { span = DateInterval(start: first, end: until) }
        }
        guard let span, span.intersects(window) else { return ([], span) }
        var rows: [OnCallSegment] = []
        for try await row in try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM oncall_log
            WHERE roster_id = \(roster) AND started_at < \(window.end) AND ended_at > \(window.start) ORDER BY started_at
            """, logger: logger) { rows.append(try Self.decode(row)) }
        return (rows, span)
    }

    /// The finished stretch of the log that `instant` falls in (the log's last row may still be going on, so it is
    /// not one).
    func finished(_ roster: UUID, at instant: Date, on connection: PostgresConnection) async throws -> OnCallSegment? {
        for try await row in try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM oncall_log l JOIN oncall_log_cursor c USING (roster_id)
            WHERE l.roster_id = \(roster) AND l.started_at <= \(instant) AND l.ended_at > \(instant) AND l.ended_at < c.recorded_until
            """, logger: logger) { return try Self.decode(row) }
        return nil
    }

    func recordedUntil(_ roster: UUID, on connection: PostgresConnection) async throws -> Date? {
        for try await until in try await connection.query("""
            SELECT recorded_until FROM oncall_log_cursor WHERE roster_id = \(roster) AND recorded_until IS NOT NULL
            """, logger: logger).decode(Date.self) { return until }
        return nil
    }

    /// Writes a pass: the last row lengthened, new rows, the cursor moved to `until`.
    func write(_ roster: UUID, last: OnCallSegment?, extendTo: Date?, inserts: [OnCallSegment], until: Date,
               on connection: PostgresConnection) async throws {
        if let last, let extendTo {
            try await connection.query("""
                UPDATE oncall_log SET ended_at = \(extendTo) WHERE roster_id = \(roster) AND started_at = \(last.interval.start)
                """, logger: logger)
        }
        for s in inserts {
            try await connection.query("""
                INSERT INTO oncall_log (roster_id, \(unescaped: Self.columns))
                VALUES (\(roster), \(s.interval.start), \(s.interval.end), \(s.primary), \(s.secondary), \(s.shiftIndex), \(s.overrideID),
                        \(s.subRoster), \(s.inCoverageWindow))
                """, logger: logger)
        }
        try await connection.query("UPDATE oncall_log_cursor SET recorded_until = \(until) WHERE roster_id = \(roster)", logger: logger)
    }
}

/// Records, on each worker pass, every active roster's stretches since the last pass, as its configuration has them
/// at that moment. A roster's first pass starts its log at the stretch going on then; after a worker outage, the
/// missed time (up to `catchUp`) is filled in from the configuration as it stands.
public struct OnCallRecorder: Sendable {
    let database: Database
    let logger: Logger
    let now: @Sendable () -> Date
    static let catchUp: TimeInterval = 366 * 86_400

    public init(database: Database, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.logger = logger
        self.now = now
    }

    public func run(_ tenant: Tenant) async throws {
        let instant = now()
        let rosters = RosterStore(logger: logger)
        let log = OnCallLogStore(logger: logger)
        try await database.withTenant(tenant.slug, actor: "oncall-recorder") { connection in
            for listed in try await rosters.active(at: instant, on: connection) {
                let (locked, until) = try await log.cursor(listed.id, on: connection)
                if locked { continue } // another worker is recording it
                guard let roster = try await rosters.get(listed.id, on: connection) else { continue }
                let lookBack = instant.addingTimeInterval(-Self.catchUp)
                let (plan, _) = try await rosters.plan(for: roster, around: DateInterval(start: lookBack, end: instant), on: connection)
                let from = max(until ?? OnCallTimeline.segment(plan, at: instant)?.interval.start ?? instant, lookBack)
                guard from < instant else { continue }
                let last = try await log.rows(listed.id, before: .distantFuture, limit: 1, on: connection).last
                let segments = OnCallTimeline.segments(plan, in: DateInterval(start: from, end: instant))
                let (extend, inserts) = OnCallHistory.append(last: last, segments)
                try await log.write(listed.id, last: last, extendTo: extend, inserts: inserts, until: instant, on: connection)
            }
        }
    }
}

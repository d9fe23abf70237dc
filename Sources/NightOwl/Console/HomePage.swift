import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// Home answers three questions first: am I on call (until when), when is my next shift, what is on fire; then my
/// unacknowledged alerts, who is on call for each roster, and recent knowledge-base entries.
struct HomePage {
    let platform: Platform
    let console: Console
    var rosters: RosterStore { RosterStore(logger: platform.logger) }

    /// How far ahead "my next shift" looks.
    static let lookahead: TimeInterval = 30 * 86_400

    func register(on routes: OwlRouter) {
        routes.page(.get, "/", .readonly, inAPI: false, home)
    }

    @Sendable func home(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let now = viewer.time.now
        let oncall = OnCallRoutes(platform: platform)
        // What is firing and recent, on a second connection while the rosters are worked out.
        async let alerting = alertValues(principal, viewer)
        let values = try await platform.database.withTenant(principal.tenant.slug) { connection -> TemplateValues in
            var me: [[String: Any]] = []
            var next: (Date, [String: Any])?
            var rosterRows: [[String: Any]] = []
            for listed in try await rosters.active(at: now, on: connection) {
                guard let roster = try await rosters.get(listed.id, on: connection) else { continue }
                let answer = try await oncall.answer(roster, at: now, requireMembers: false, on: connection)
                let shift = answer.shift
                let primary = shift.flatMap { $0.people[$0.segment.primary] }
                let secondary = shift.flatMap { s in s.segment.secondary.flatMap { s.people[$0] } }
                rosterRows.append(["name": roster.name, "primary": primary?.displayName ?? false, "secondary": secondary?.displayName ?? false,
                                   "until": shift.map { viewer.time.value($0.segment.interval.end) } ?? false])
                if let user = principal.userID, let shift, shift.segment.primary == user || shift.segment.secondary == user {
                    me.append(["roster": roster.name, "role": shift.segment.primary == user ? "primary" : "secondary",
                               "until": viewer.time.value(shift.segment.interval.end)])
                }
                guard let user = principal.userID else { continue }
                let ahead = try await oncall.shifts(roster, in: DateInterval(start: now, duration: Self.lookahead), on: connection)
                if let upcoming = ahead.first(where: { $0.segment.interval.start > now && ($0.segment.primary == user || $0.segment.secondary == user) }),
                   next.map({ upcoming.segment.interval.start < $0.0 }) ?? true {
                    next = (upcoming.segment.interval.start, [
                        "roster": roster.name, "role": upcoming.segment.primary == user ? "primary" : "secondary",
                        "start": viewer.time.value(upcoming.segment.interval.start), "end": viewer.time.value(upcoming.segment.interval.end),
                    ])
                }
            }
            return TemplateValues([
                "onCall": me, "isOnCall": !me.isEmpty, "next": next?.1 ?? false, "rosters": rosterRows, "hasRosters": !rosterRows.isEmpty,
            ])
        }
        var all = values.values
        for (key, value) in try await alerting.values { all[key] = value }
        all["canAct"] = principal.role >= .engineer
        all["events"] = "/events"
        all["topic"] = "alert"
        all["reload"] = true
        all["fragment"] = "/alerts/{id}/row"
        let flash = ConsoleFlash.read(request)
        all["flash"] = flash?.values ?? false
        return ConsoleFlash.consumed(try console.page("home", title: "Home", section: "home", viewer: viewer, request: request, values: all,
                                                      refresh: true), flash)
    }

    /// Firing alerts by severity, the viewer's unacknowledged alerts, and recent knowledge-base entries.
    func alertValues(_ principal: Principal, _ viewer: ConsoleViewer) async throws -> TemplateValues {
        try await platform.database.withTenant(principal.tenant.slug) { connection -> TemplateValues in
            var bySeverity: [String: Int] = [:]
            for try await (severity, count) in try await connection.query("""
                SELECT severity, count(*)::integer FROM alerts WHERE status = 'firing' GROUP BY severity
                """, logger: platform.logger).decode((String, Int).self) { bySeverity[severity] = count }
            let mine = try await myAlerts(principal.userID, on: connection)
            var recent: [[String: Any]] = []
            for try await (title, severity, updated) in try await connection.query("""
                SELECT title, severity, updated_at FROM incidents WHERE merged_into_id IS NULL AND archived_at IS NULL
                ORDER BY updated_at DESC, id DESC LIMIT 5
                """, logger: platform.logger).decode((String, String, Date).self) {
                recent.append(["title": title, "severity": severity, "updated": viewer.time.value(updated)])
            }
            return TemplateValues([
                "firing": Severity.allCases.map { ["severity": $0.rawValue, "label": $0.rawValue.capitalized, "count": bySeverity[$0.rawValue] ?? 0,
                                                   "href": "/alerts?status=firing&severity=\($0.rawValue)"] },
                "firingTotal": bySeverity.values.reduce(0, +),
                "mine": mine.map { AlertView.row($0, time: viewer.time, canAct: principal.role >= .engineer) }, "hasMine": !mine.isEmpty,
                "recent": recent, "hasRecent": !recent.isEmpty,
            ])
        }
    }

    /// Firing alerts that paged this person, newest first.
    func myAlerts(_ user: UUID?, on connection: PostgresConnection) async throws -> [Alert] {
        guard let user else { return [] }
        var alerts: [Alert] = []
        for try await row in try await connection.query("""
            SELECT \(unescaped: AlertStore.columns) FROM alerts
            WHERE status = 'firing' AND id IN (SELECT alert_id FROM escalation_events WHERE user_id = \(user))
            ORDER BY first_fired_at DESC, id DESC LIMIT 20
            """, logger: platform.logger) { alerts.append(try AlertStore.decode(row)) }
        return alerts
    }
}

import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// The last 30 days in the viewer's time zone: alerts per day by severity, the mean time to acknowledge and to
/// resolve per day, and the alerts that fire most often (by fingerprint); each chart with its numbers in a table.
struct DashboardPage {
    let platform: Platform
    let console: Console
    static let days = 30

    func register(on routes: OwlRouter) {
        routes.page(.get, "/dashboard", .readonly, inAPI: false, dashboard)
    }

    struct Day: Sendable, Equatable {
        var counts: [Severity: Int] = [:]
        var mtta: Double?
        var mttr: Double?
    }

    struct Recurring: Sendable {
        var fingerprint: String
        var title: String
        var severity: String
        var firings: Int
        var alerts: Int
        var latest: UUID
    }

    @Sendable func dashboard(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let viewer = try await console.viewer(principal)
        let (days, dates) = Self.window(now: viewer.time.now, zone: viewer.time.zone)
        let zone = viewer.time.zone.identifier
        let since = dates.first ?? viewer.time.now
        let (byDay, recurring) = try await platform.database.withTenant(principal.tenant.slug) { connection -> ([String: Day], [Recurring]) in
            var byDay: [String: Day] = [:]
            for try await (day, severity, count) in try await connection.query("""
                SELECT to_char(first_fired_at AT TIME ZONE \(zone), 'YYYY-MM-DD'), severity, count(*)::integer
                FROM alerts WHERE first_fired_at >= \(since) GROUP BY 1, 2
                """, logger: platform.logger).decode((String, String, Int).self) {
                guard let severity = Severity(rawValue: severity) else { continue }
                byDay[day, default: Day()].counts[severity] = count
            }
            for try await (day, mtta, mttr) in try await connection.query("""
                SELECT to_char(first_fired_at AT TIME ZONE \(zone), 'YYYY-MM-DD'),
                       avg(extract(epoch FROM acknowledged_at - first_fired_at))::float8, avg(extract(epoch FROM resolved_at - first_fired_at))::float8
                FROM alerts WHERE first_fired_at >= \(since) GROUP BY 1
                """, logger: platform.logger).decode((String, Double?, Double?).self) {
                byDay[day, default: Day()].mtta = mtta
                byDay[day, default: Day()].mttr = mttr
            }
            var recurring: [Recurring] = []
            for try await (fingerprint, title, severity, firings, alerts, latest) in try await connection.query("""
                SELECT fingerprint, (array_agg(title ORDER BY last_fired_at DESC))[1], (array_agg(severity ORDER BY last_fired_at DESC))[1], sum(occurrence_count)::integer,
                       count(*)::integer, (array_agg(id ORDER BY last_fired_at DESC))[1]
                FROM alerts WHERE last_fired_at >= \(since)
                GROUP BY fingerprint ORDER BY 4 DESC, 1 LIMIT 10
                """, logger: platform.logger).decode((String, String, String, Int, Int, UUID).self) {
                recurring.append(Recurring(fingerprint: fingerprint, title: title, severity: severity, firings: firings, alerts: alerts, latest: latest))
            }
            return (byDay, recurring)
        }
        let labels = days.map { Self.label($0) }
        let severities = Severity.allCases.reversed()
        let counts = severities.map { severity in
            ConsoleChart.Series(name: severity.rawValue, style: "fill-\(severity.rawValue)",
                                values: days.map { Double(byDay[$0]?.counts[severity] ?? 0) })
        }
        let times = [
            ConsoleChart.Series(name: "to acknowledge", style: "line-mtta", values: days.map { byDay[$0]?.mtta.map { $0 / 60 } }),
            ConsoleChart.Series(name: "to resolve", style: "line-mttr", values: days.map { byDay[$0]?.mttr.map { $0 / 60 } }),
        ]
        let whole: (Double) -> String = { String(Int($0.rounded())) }
        let minutes: (Double) -> String = { $0 < 10 ? String(format: "%.1f min", $0) : "\(Int($0.rounded())) min" }
        let values: [String: Any] = [
            "countsHTML": ConsoleChart.stackedBars(id: "chart-alerts", title: "Alerts per day by severity, last \(Self.days) days",
                                                   labels: labels, series: counts, format: whole),
            "countsColumns": counts.map(\.name), "countsRows": ConsoleChart.table(labels: labels, series: counts, format: whole),
            "legend": counts.map { ["name": $0.name, "style": $0.style] },
            "timesHTML": ConsoleChart.lines(id: "chart-times", title: "Mean minutes to acknowledge and to resolve, per day, last \(Self.days) days",
                                            labels: labels, series: times, format: minutes),
            "timesColumns": times.map(\.name), "timesRows": ConsoleChart.table(labels: labels, series: times, format: minutes),
            "recurring": recurring.map { ["title": $0.title, "severity": $0.severity, "firings": $0.firings, "alerts": $0.alerts,
                                          "fingerprint": $0.fingerprint, "latest": $0.latest.uuidString.lowercased()] },
            "hasRecurring": !recurring.isEmpty, "zone": viewer.time.zone.identifier,
        ]
        return try console.page("dashboard", title: "Dashboard", section: "dashboard", viewer: viewer, request: request, values: values)
    }

    /// The last `days` calendar days in `zone`, oldest first, as `YYYY-MM-DD`, and their starts.
    static func window(now: Date, zone: TimeZone) -> ([String], [Date]) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let today = calendar.startOfDay(for: now)
        let starts = (0..<days).reversed().compactMap { calendar.date(byAdding: .day, value: -$0, to: today) }
        let keys = starts.map { start -> String in
            let parts = calendar.dateComponents([.year, .month, .day], from: start)
            return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
        return (keys, starts)
    }

    /// "2026-12-05" as "5 Dec".
    static func label(_ day: String) -> String {
        let parts = day.split(separator: "-")
        guard parts.count == 3, let month = Int(parts[1]), (1...12).contains(month), let date = Int(parts[2]) else { return day }
        return "\(date) \(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1])"
    }
}

import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// `/nightowl` in Slack: who is on call, the week's shifts, knowledge-base search, and acknowledging or resolving an
/// alert. Slack shows the answer (ephemeral) to the person who typed it. As with the buttons, only people whose
/// `slack_user_id` belongs to an active user may use it, and changing an alert needs the engineer role.
extension SlackRoutes {
    static let commandRefusal = "This Slack account is not linked to a NightOwl user. An admin can set your slack_user_id in NightOwl."
    static let scheduleDays = 7

    @Sendable func commands(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let (tenant, form) = try await verified(request)
        guard let slackUser = form["user_id"], !slackUser.isEmpty else { throw APIError.badRequest("the command names no Slack user") }
        return try JSON.response(try await reply(to: form["text"] ?? "", from: slackUser, tenant: tenant, context: context))
    }

    /// What `/nightowl <text>` (or a mention or DM with that text) answers to this member, having done what it asks.
    func reply(to text: String, from slackUser: String, tenant: Tenant, context: OwlRequestContext) async throws -> JSONValue {
        let command = SlackCommand.parse(text)
        guard let member = try await member(slackUser, tenant: tenant) else {
            return SlackCommandReplies.message(Self.commandRefusal)
        }
        if command.changesAlerts, member.role < .engineer {
            return SlackCommandReplies.message("Acknowledging and resolving alerts needs the engineer role; yours is \(member.role.rawValue).")
        }
        let reply: JSONValue
        switch command {
        case .help(let problem): reply = SlackCommandReplies.help(problem: problem)
        case .oncall(let name): reply = SlackCommandReplies.oncall(try await onCall(name, tenant: tenant), at: now())
        case .roster(let name): reply = SlackCommandReplies.schedule(try await schedule(name, tenant: tenant), at: now())
        case .search(let text): reply = try await search(text, tenant: tenant)
        case .acknowledge(let reference):
            reply = try await act(on: reference, tenant: tenant) { alert in
                let count = try await AlertActions(platform: platform).perform(.acknowledge, [alert.id], actorType: "slack", by: member.email,
                                                                             tenant: tenant, context: context)
                return SlackCommandReplies.acknowledged(alert.title, changed: count > 0)
            }
        case .resolve(let reference, let notes):
            reply = try await act(on: reference, tenant: tenant) { alert in
                let count = try await AlertActions(platform: platform).perform(.resolve(notes: notes), [alert.id], actorType: "slack",
                                                                             by: member.email, tenant: tenant, context: context)
                let known = try await platform.database.withTenant(tenant.slug) { connection in
                    try await AlertStore(logger: platform.logger).isKnown(alert, on: connection)
                }
                return SlackCommandReplies.resolved(alert.title, alertID: alert.id, by: slackUser, changed: count > 0, known: known)
            }
        }
        return reply
    }

    /// The rosters a command names (by name, any case, or id), or every active one.
    func rosters(_ name: String?, on connection: PostgresConnection) async throws -> [Roster] {
        let store = RosterStore(logger: platform.logger)
        var rosters = try await store.active(at: now(), on: connection)
        if let name {
            rosters = rosters.filter { $0.name.lowercased() == name.lowercased() || $0.id.uuidString.lowercased() == name.lowercased() }
        }
        var filled: [Roster] = []
        for roster in rosters.prefix(20) { if let full = try await store.get(roster.id, on: connection) { filled.append(full) } }
        return filled
    }

    func onCall(_ name: String?, tenant: Tenant) async throws -> [SlackCommandReplies.OnCall] {
        let instant = now()
        let views = OnCallRoutes(platform: platform)
        return try await platform.database.withTenant(tenant.slug) { connection in
            var answers: [SlackCommandReplies.OnCall] = []
            for roster in try await rosters(name, on: connection) {
                let shift = try await views.answer(roster, at: instant, requireMembers: false, on: connection).shift
                answers.append(SlackCommandReplies.OnCall(
                    roster: roster.name, subRoster: shift?.subRoster?.name, primary: shift.flatMap { Self.person($0.people[$0.segment.primary]) },
                    secondary: shift.flatMap { s in s.segment.secondary.flatMap { Self.person(s.people[$0]) } }, until: shift?.segment.interval.end))
            }
            return answers
        }
    }

    func schedule(_ name: String?, tenant: Tenant) async throws -> [(name: String, shifts: [SlackCommandReplies.Shift])] {
        let window = DateInterval(start: now(), duration: Double(Self.scheduleDays) * 86_400)
        let views = OnCallRoutes(platform: platform)
        return try await platform.database.withTenant(tenant.slug) { connection in
            var result: [(name: String, shifts: [SlackCommandReplies.Shift])] = []
            for roster in try await rosters(name, on: connection).prefix(5) {
                let shifts = try await views.shifts(roster, in: window, on: connection).map { view in
                    SlackCommandReplies.Shift(start: view.segment.interval.start, end: view.segment.interval.end,
                                              primary: Self.person(view.people[view.segment.primary]),
                                              secondary: view.segment.secondary.flatMap { Self.person(view.people[$0]) },
                                              overrideReason: view.segment.overrideID.map { view.overrides[$0]?.reason ?? "" },
                                              subRoster: view.subRoster?.name)
                }
                result.append((roster.name, shifts))
            }
            return result
        }
    }

    static func person(_ user: User?) -> SlackCommandReplies.Person? {
        user.map { SlackCommandReplies.Person(name: $0.displayName, slackID: $0.slackUserID, timezone: $0.timezone) }
    }

    func search(_ raw: String, tenant: Tenant) async throws -> JSONValue {
        let text: String
        do { text = try IncidentSearch.sanitize(raw) } catch let error as APIError {
            return SlackCommandReplies.help(problem: "That search cannot be read: \(error.message)")
        }
        let base = try await publicBase(tenant)
        let (results, total) = try await platform.database.withConnection { connection in
            try await IncidentStore(logger: platform.logger).search(text, page: OffsetPage(limit: 3, offset: 0), includeArchived: false,
                                                                   tenant: tenant.slug, on: connection)
        }
        let entries = results.map { result in
            SlackCommandReplies.Entry(id: result.base.id, title: result.base.title, severity: result.base.severity, solution: result.base.solution,
                                      link: base.map { Self.incidentLink($0, result.base.id) })
        }
        return SlackCommandReplies.search(raw, entries: entries, total: total)
    }

    /// Finds the one alert whose id starts with `reference` (an index range on the key, not a scan) and runs `body` on
    /// it; says so when none or several match.
    func act(on reference: String, tenant: Tenant, _ body: (Alert) async throws -> JSONValue) async throws -> JSONValue {
        let hex = reference.filter(\.isHexDigit)
        func bound(_ pad: Character) -> UUID? {
            let full = Array(hex + String(repeating: pad, count: max(0, 32 - hex.count)))
            guard full.count == 32 else { return nil }
            let text = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(full[$0]) }.joined(separator: "-")
            return UUID(uuidString: text)
        }
        guard let low = bound("0"), let high = bound("f") else { return SlackCommandReplies.help(problem: "That is not an alert id.") }
        let matches = try await platform.database.withTenant(tenant.slug) { connection -> [Alert] in
            var alerts: [Alert] = []
            for try await row in try await connection.query("""
                SELECT \(unescaped: AlertStore.columns) FROM alerts WHERE id BETWEEN \(low) AND \(high)
                ORDER BY status = 'resolved', first_fired_at DESC LIMIT 3
                """, logger: platform.logger) { alerts.append(try AlertStore.decode(row)) }
            return alerts
        }
        let open = matches.filter { $0.status != .resolved }
        if open.count > 1 {
            return SlackCommandReplies.message("Several open alerts have ids starting with `\(reference)`: give more of the id.")
        }
        guard let alert = open.first ?? matches.first else {
            return SlackCommandReplies.message("No alert has an id starting with `\(reference)`.")
        }
        return try await body(alert)
    }
}

import Foundation
import Hummingbird
import OwlCore
import PostgresNIO

/// iCalendar feeds of shifts: per roster and per person ("my shifts" across every roster). Calendar apps cannot send
/// headers, so each feed can also be reached through a secret URL whose token an admin (or the person, for their own
/// feed) can rotate; only the token's hash is stored.
struct CalendarRoutes {
    let platform: Platform
    let oncall: OnCallRoutes
    var store: RosterStore { RosterStore(logger: platform.logger) }
    /// The platform's clock.
    func now() -> Date { platform.clock.now }

    /// The default window of a feed: the past 30 and the next 90 days.
    static let defaultDays = (-30, 90)

    func register(on routes: OwlRouter) {
        routes.secured(.get, "/api/v1/rosters/{id}/export.ics", .role(.readonly), rosterFeed)
        routes.secured(.post, "/api/v1/rosters/{id}/calendar-token", .role(.admin), rotateRosterToken)
        routes.secured(.get, "/api/v1/users/{id}/shifts.ics", .role(.readonly), userFeed)
        routes.secured(.post, "/api/v1/users/{id}/calendar-token", .role(.engineer), rotateUserToken)
        routes.open(.get, "/api/v1/calendars/{tenant}/{token}", tokenFeed)
    }

    @Sendable func rosterFeed(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let window = try OnCallRoutes.window(Query(request), now: now(), defaultDays: Self.defaultDays)
        let text = try await platform.database.withTenant(principal.tenant.slug) { connection in
            try await rosterCalendar(try context.uuid("id"), window: window, on: connection)
        }
        return Self.calendarResponse(text)
    }

    @Sendable func userFeed(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let window = try OnCallRoutes.window(Query(request), now: now(), defaultDays: Self.defaultDays)
        let text = try await platform.database.withTenant(principal.tenant.slug) { connection in
            try await userCalendar(try context.uuid("id"), window: window, on: connection)
        }
        return Self.calendarResponse(text)
    }

    /// A feed by its secret URL. Unknown tenants and tokens are the same 404, so the URL reveals nothing.
    @Sendable func tokenFeed(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        var token = context.parameters.get("token") ?? ""
        if token.hasSuffix(".ics") { token.removeLast(4) }
        guard let slug = context.parameters.get("tenant").flatMap(TenantSlug.init), token.hasPrefix("cal_"), token.utf8.count <= 100,
              try await TenantStore(database: platform.database).find(slug: slug) != nil else {
            throw APIError.notFound("calendar feed")
        }
        let window = try OnCallRoutes.window(Query(request), now: now(), defaultDays: Self.defaultDays)
        let text = try await platform.database.withTenant(slug) { connection -> String in
            let rows = try await connection.query("""
                SELECT kind, subject_id FROM calendar_feeds WHERE token_hash = \(APIKeyMaterial.hash(token))
                """, logger: platform.logger)
            for try await (kind, subject) in rows.decode((String, UUID).self) {
                return kind == "roster" ? try await rosterCalendar(subject, window: window, on: connection)
                    : try await userCalendar(subject, window: window, on: connection)
            }
            throw APIError.notFound("calendar feed")
        }
        return Self.calendarResponse(text)
    }

    @Sendable func rotateRosterToken(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let token = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard try await store.get(id, on: connection) != nil else { throw APIError.notFound("roster") }
            return try await rotate(kind: "roster", subject: id, by: principal.actor, on: connection)
        }
        await platform.audit(context, principal, action: "roster.calendar_token.rotate", resource: "roster", id: id.uuidString)
        return try tokenResponse(token, request: request, principal: principal)
    }

    /// A person may rotate their own feed's token; an admin anyone's.
    @Sendable func rotateUserToken(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        let token = try await platform.database.withTenant(principal.tenant.slug, actor: principal.actor) { connection in
            guard try await store.users([id], on: connection)[id] != nil else { throw APIError.notFound("user") }
            guard principal.role >= .admin || principal.userID == id else {
                throw APIError.forbidden("only an admin or the person themself may rotate this feed's token")
            }
            return try await rotate(kind: "user", subject: id, by: principal.actor, on: connection)
        }
        await platform.audit(context, principal, action: "user.calendar_token.rotate", resource: "user", id: id.uuidString)
        return try tokenResponse(token, request: request, principal: principal)
    }

    // MARK: Building feeds

    func rosterCalendar(_ id: UUID, window: DateInterval, on connection: PostgresConnection) async throws -> String {
        guard let roster = try await store.get(id, on: connection) else { throw APIError.notFound("roster") }
        let events = try await oncall.shifts(roster, in: window, on: connection).map { Self.event($0, for: nil) }
        return ICalendar.render(name: "On call: \(roster.name)", events: events, stamp: now())
    }

    func userCalendar(_ id: UUID, window: DateInterval, on connection: PostgresConnection) async throws -> String {
        guard let user = try await store.users([id], on: connection)[id] else { throw APIError.notFound("user") }
        var events: [ICalendar.Event] = []
        for listed in try await store.active(at: window.start, on: connection) {
            guard let roster = try await store.get(listed.id, on: connection) else { continue }
            for shift in try await oncall.shifts(roster, in: window, on: connection)
            where shift.segment.primary == id || shift.segment.secondary == id {
                events.append(Self.event(shift, for: id))
            }
        }
        return ICalendar.render(name: "My on-call shifts (\(user.displayName))", events: events.sorted { $0.start < $1.start }, stamp: now())
    }

    /// One stretch as an event. The UID names the roster, the start and what produced it, so a calendar updates the
    /// event in place when the person changes.
    static func event(_ shift: ShiftView, for user: UUID?) -> ICalendar.Event {
        let segment = shift.segment
        let name = { (id: UUID?) in id.flatMap { shift.people[$0]?.displayName } ?? "nobody" }
        let rosterName = shift.subRoster.map { "\(shift.roster.name) / \($0.name)" } ?? shift.roster.name
        let role = user != nil && segment.secondary == user ? "secondary" : "primary"
        var summary = user == nil ? "On call: \(name(segment.primary))" : "On call (\(role)): \(rosterName)"
        var description = "Roster: \(rosterName)\nPrimary: \(name(segment.primary))\nSecondary: \(name(segment.secondary))"
        var categories = ["ON-CALL"]
        if let id = segment.overrideID {
            summary += user == nil ? " (override)" : " — override"
            categories.append("OVERRIDE")
            let reason = shift.overrides[id]?.reason ?? ""
            description += "\nOverride" + (reason.isEmpty ? "" : ": \(reason)")
        }
        if !segment.inCoverageWindow { description += "\nCovering the gap until the next region's window opens" }
        let source = segment.overrideID.map { "override-\($0.uuidString.lowercased())" } ?? "shift-\(segment.shiftIndex ?? 0)"
        let uid = "\(shift.roster.id.uuidString.lowercased())-\(Int(segment.interval.start.timeIntervalSince1970))-\(source)"
            + (user.map { "-\($0.uuidString.lowercased())" } ?? "") + "@nightowl"
        return ICalendar.Event(uid: uid, start: segment.interval.start, end: segment.interval.end, summary: summary,
                               description: description, categories: categories)
    }

    private func rotate(kind: String, subject: UUID, by actor: String, on connection: PostgresConnection) async throws -> (String, Date) {
        let token = "cal_" + APIKeyMaterial.hex((0..<24).map { _ in UInt8.random(in: .min ... .max) })
        let rows = try await connection.query("""
            INSERT INTO calendar_feeds (kind, subject_id, token_hash, created_by) VALUES (\(kind), \(subject), \(APIKeyMaterial.hash(token)), \(actor))
            ON CONFLICT (kind, subject_id) DO UPDATE SET token_hash = EXCLUDED.token_hash, created_by = EXCLUDED.created_by, created_at = now()
            RETURNING created_at
            """, logger: platform.logger)
        for try await created in rows.decode(Date.self) { return (token, created) }
        throw APIError.conflict("the token could not be stored")
    }

    /// The token is shown once; the previous URL stops working at once.
    private func tokenResponse(_ token: (String, Date), request: Request, principal: Principal) throws -> Response {
        let path = "/api/v1/calendars/\(principal.tenant.slug.value)/\(token.0).ics"
        return try JSON.response(["token": token.0, "url": platform.baseURL(for: request) + path, "path": path,
                                  "created_at": Timestamp.format(token.1)], status: .created)
    }

    static func calendarResponse(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "text/calendar; charset=utf-8", .cacheControl: "private, max-age=300"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

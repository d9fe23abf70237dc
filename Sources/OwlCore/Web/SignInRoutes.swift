import Foundation
import HTTPTypes
import Hummingbird

/// Signing in and out of a service's console: the sign-in page (local accounts, single sign-on when configured, the
/// demo users in dev mode), setting a password from a link, the account page with the browser's sessions, and the
/// session API. The same for the three services.
struct SignInRoutes {
    let platform: Platform
    let service: String
    let home: String
    let accounts: LocalAccounts
    var pages: WebPages { .core }
    var sessions: SessionStore { SessionStore(database: platform.database) }
    var links: PasswordLinkStore { PasswordLinkStore(database: platform.database) }
    var cookie: SessionCookie { platform.authenticator.cookie }
    var settings: SessionSettings { platform.config.sessions }
    /// The double-submit cookie of forms shown to people who are not signed in yet.
    var formCookie: String { "\(platform.config.serviceName)_form" }

    func register(on routes: OwlRouter) {
        routes.open(.get, "/auth/sign-in", signInPage)
        routes.anonymousForm(.post, "/auth/sign-in", signIn)
        routes.anonymousForm(.post, "/auth/dev-sign-in", devSignIn)
        routes.open(.get, "/auth/password/{token}", passwordPage)
        routes.anonymousForm(.post, "/auth/password/{token}", setPassword)
        routes.page(.get, "/auth/account", .readonly, account)
        routes.page(.post, "/auth/sign-out", .readonly, signOut)
        routes.page(.post, "/auth/sign-out-everywhere", .readonly, signOutEverywhere)
        routes.page(.post, "/auth/sessions/{id}/end", .readonly, endSession)
        routes.secured(.get, "/api/v1/me/sessions", .role(.readonly), listSessions)
        routes.secured(.delete, "/api/v1/me/sessions", .role(.readonly), endAllSessions)
        routes.secured(.post, "/api/v1/users/{id}/password-link", .role(.admin), passwordLink)
        registerOIDC(on: routes)
    }

    // MARK: Signing in

    /// The sign-in page. A browser that is signed in already goes where it was going.
    @Sendable func signInPage(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let query = Query(request)
        let returnTo = ReturnPath.safe(query["return_to"], fallback: home)
        if context.principal?.method == .session { return redirect(returnTo) }
        return try await signInForm(request, returnTo: returnTo, tenant: query["tenant"], email: nil, error: nil, status: .ok)
    }

    func signInForm(_ request: Request, returnTo: String, tenant: String?, email: String?, error: String?,
                    status: HTTPResponse.Status) async throws -> Response {
        let token = CookieHeader.value(formCookie, in: request.headers[.cookie]) ?? WebToken.make()
        var tenants: [Tenant] = []
        var devUsers: [[String: Any]] = []
        if platform.config.devMode || tenant == nil { tenants = try await TenantStore(database: platform.database).list() }
        if platform.config.devMode {
            // The tenant asked for, else the first few: a development cluster has one or two.
            let shown = tenant.map { slug in tenants.filter { $0.slug.value == slug } } ?? Array(tenants.prefix(5))
            for tenant in shown {
                let users = try await platform.database.withTenant(tenant.slug) {
                    try await UserStore(database: platform.database).list(page: OffsetPage(limit: 20), activeOnly: true, on: $0).users
                }
                for user in users {
                    devUsers.append(["id": user.id.uuidString.lowercased(), "name": user.displayName, "role": user.role.rawValue,
                                     "tenant": tenant.slug.value, "csrf": token, "returnTo": returnTo])
                }
            }
        }
        let values: [String: Any] = [
            "service": service, "csrf": token, "returnTo": returnTo, "returnToQuery": FormEncoding.escape(returnTo),
            "tenant": tenant ?? (tenants.count == 1 ? tenants[0].slug.value : ""), "email": email ?? "", "error": error ?? false,
            "oidc": oidcClient != nil, "localAccounts": settings.localAccounts,
            "hasDevUsers": !devUsers.isEmpty, "devUsers": devUsers,
        ]
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: "\(formCookie)=\(token); Path=/auth; Max-Age=7200; HttpOnly; SameSite=Strict"
                                 + (cookie.secure ? "; Secure" : "")))
        return try pages.page("sign-in", values, status: status, headers: headers)
    }

    /// Reads an anonymous form and checks its CSRF field against the cookie its page set.
    func anonymousForm(_ request: Request, _ context: OwlRequestContext) async throws -> [String: String] {
        var request = request
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw APIError.badRequest("this is a form: send application/x-www-form-urlencoded", code: "invalid_form")
        }
        let body = try await request.collectBody(upTo: platform.config.bodyLimitBytes)
        var fields: [String: String] = [:]
        for (name, value) in FormEncoding.decode(String(buffer: body)) { fields[name] = value }
        // A browser that is signed in proved the form's origin to the CSRF middleware with its session's token.
        if context.principal?.method == .session { return fields }
        guard let expected = CookieHeader.value(formCookie, in: request.headers[.cookie]), let sent = fields[CSRFMiddleware.field],
              ConstantTime.equal(sent, expected) else {
            throw APIError(.forbidden, code: "csrf_failed", message: "this form has expired or did not come from this site; reload the page and try again")
        }
        return fields
    }

    /// Email and password. Every failure reads the same, whether the account exists or not.
    @Sendable func signIn(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let form = try await anonymousForm(request, context)
        let returnTo = ReturnPath.safe(form["return_to"], fallback: home)
        let tenant = form["tenant"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let email = form["email"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard settings.localAccounts else {
            return try await signInForm(request, returnTo: returnTo, tenant: tenant, email: email, error: "Sign-in with a password is turned off; use single sign-on.", status: .forbidden)
        }
        guard !tenant.isEmpty, !email.isEmpty, let password = form["password"], !password.isEmpty else {
            return try await signInForm(request, returnTo: returnTo, tenant: tenant, email: email, error: "Enter your workspace, email and password.", status: .unprocessableContent)
        }
        switch try await accounts.signIn(tenant: tenant, email: email, password: password, address: context.remoteAddress, at: platform.clock.now) {
        case .signedIn(let found, let userID):
            return try await startSession(request, context, tenant: found, userID: userID, method: .password, returnTo: returnTo)
        case .invalid:
            return try await signInForm(request, returnTo: returnTo, tenant: tenant, email: email, error: "The workspace, email or password is not right.", status: .unauthorized)
        case .locked(let until):
            let minutes = max(Int((until.timeIntervalSince(platform.clock.now) / 60).rounded(.up)), 1)
            return try await signInForm(request, returnTo: returnTo, tenant: tenant, email: email,
                                        error: "Too many failed sign-ins. Try again in \(minutes) minute\(minutes == 1 ? "" : "s").", status: .tooManyRequests)
        }
    }

    /// One click as a demo user: development mode only.
    @Sendable func devSignIn(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let form = try await anonymousForm(request, context)
        guard platform.config.devMode else { throw APIError.notFound("page") }
        guard let slug = form["tenant"].flatMap(TenantSlug.init), let tenant = try await TenantStore(database: platform.database).find(slug: slug),
              let id = form["user_id"].flatMap(UUID.init(uuidString:)),
              let user = try await UserStore(database: platform.database).find(id: id, in: slug), user.isActive else {
            throw APIError.badRequest("no such demo user", code: "invalid_form")
        }
        return try await startSession(request, context, tenant: tenant, userID: user.id, method: .dev,
                                      returnTo: ReturnPath.safe(form["return_to"], fallback: home))
    }

    /// A new session (never the old id: a session fixed before sign-in is ended), its cookie, and the way onwards.
    func startSession(_ request: Request, _ context: OwlRequestContext, tenant: Tenant, userID: UUID, method: SignInMethod,
                      returnTo: String) async throws -> Response {
        let (value, _) = try await sessions.create(tenantID: tenant.id, userID: userID, method: method, userAgent: request.headers[.userAgent],
                                                   ipAddress: context.remoteAddress, at: platform.clock.now, settings: settings,
                                                   replacing: CookieHeader.value(cookie.name, in: request.headers[.cookie]))
        let user = userID.uuidString.lowercased()
        await platform.audit.record(AuditEntry(actor: "user:\(user)", actorType: method.rawValue, action: "session.start", resource: "user",
                                               resourceID: user, diff: .object(["method": .string(method.rawValue)]), requestID: context.requestID,
                                               ipAddress: context.remoteAddress, createdAt: platform.clock.now), tenant: tenant.slug)
        var response = redirect(returnTo)
        response.headers.append(HTTPField(name: .setCookie, value: cookie.set(value, maxAge: settings.lifetime)))
        return response
    }

    func redirect(_ location: String) -> Response { Response(status: .seeOther, headers: [.location: location]) }

    // MARK: Passwords

    /// The page of a password link.
    @Sendable func passwordPage(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        return try await passwordForm(request, context, token: token, error: nil, status: .ok)
    }

    func passwordForm(_ request: Request, _ context: OwlRequestContext, token: String, error: String?, status: HTTPResponse.Status) async throws -> Response {
        // A signed-in browser's forms carry its session's token; the CSRF middleware checks that one.
        let csrf = context.principal?.csrfToken ?? CookieHeader.value(formCookie, in: request.headers[.cookie]) ?? WebToken.make()
        var values: [String: Any] = ["service": service, "token": token, "csrf": csrf, "error": error ?? false]
        if let link = try await links.find(token, at: platform.clock.now), let tenant = try await tenant(id: link.tenantID),
           let user = try await UserStore(database: platform.database).find(id: link.userID, in: tenant.slug) {
            values["email"] = user.email
            values["invalid"] = false
        } else {
            values["invalid"] = true
        }
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: "\(formCookie)=\(csrf); Path=/auth; Max-Age=7200; HttpOnly; SameSite=Strict"
                                 + (cookie.secure ? "; Secure" : "")))
        return try pages.page("set-password", values, status: values["invalid"] as? Bool == true && status == .ok ? .notFound : status, headers: headers)
    }

    /// Sets the password of a link's user, ends their other sessions and signs this browser in.
    @Sendable func setPassword(_ request: Request, _ context: OwlRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let form = try await anonymousForm(request, context)
        let password = form["password"] ?? ""
        if let problem = PasswordRules.problem(with: password) {
            return try await passwordForm(request, context, token: token, error: "The password \(problem).", status: .unprocessableContent)
        }
        guard password == form["confirm"] else {
            return try await passwordForm(request, context, token: token, error: "The two passwords are not the same.", status: .unprocessableContent)
        }
        let now = platform.clock.now
        guard let link = try await links.find(token, at: now), let tenant = try await tenant(id: link.tenantID),
              try await links.use(token, at: now),
              try await accounts.setPassword(password, userID: link.userID, tenant: tenant.slug, at: now) else {
            return try await passwordForm(request, context, token: token, error: nil, status: .notFound)
        }
        try await sessions.end(tenantID: tenant.id, userID: link.userID)
        await platform.audit.record(AuditEntry(actor: "user:\(link.userID.uuidString.lowercased())", actorType: "password_link",
                                               action: "user.password_set", resource: "user", resourceID: link.userID.uuidString.lowercased(),
                                               diff: nil, requestID: context.requestID, ipAddress: context.remoteAddress, createdAt: now),
                                    tenant: tenant.slug)
        return try await startSession(request, context, tenant: tenant, userID: link.userID, method: .password, returnTo: home)
    }

    func tenant(id: UUID) async throws -> Tenant? {
        try await TenantStore(database: platform.database).find(id: id)
    }

    /// A single-use link (72 hours) that lets the user set a password: for an invitation or a reset. Shown once.
    @Sendable func passwordLink(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        guard try await UserStore(database: platform.database).find(id: id, in: principal.tenant.slug) != nil else { throw APIError.notFound("user") }
        let (token, expires) = try await links.create(tenantID: principal.tenant.id, userID: id, at: platform.clock.now)
        await platform.audit(context, principal, action: "user.password_link", resource: "user", id: id.uuidString.lowercased())
        return try JSON.response(["url": JSONValue.string(platform.baseURL(for: request) + "/auth/password/" + token),
                                  "expires_at": .string(Timestamp.format(expires))], status: .created)
    }

    // MARK: The account page and sessions

    /// Who is signed in, and every browser where they are.
    @Sendable func account(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let list = try await mySessions(principal)
        var user: User?
        if let id = principal.userID { user = try await UserStore(database: platform.database).find(id: id, in: principal.tenant.slug) }
        let values: [String: Any] = [
            "service": service, "name": user?.displayName ?? principal.actor, "email": principal.email ?? "",
            "role": principal.role.rawValue, "tenant": principal.tenant.name, "csrf": principal.csrfToken ?? "",
            "sessions": list.map { session -> [String: Any] in
                ["id": session.id.uuidString.lowercased(), "createdAt": Timestamp.format(session.createdAt),
                 "lastSeenAt": Timestamp.format(session.lastSeenAt), "method": session.method.rawValue, "userAgent": session.userAgent ?? "",
                 "current": session.id == principal.sessionID, "csrf": principal.csrfToken ?? ""]
            },
        ]
        return try pages.page("account", values)
    }

    func mySessions(_ principal: Principal) async throws -> [WebSession] {
        guard let user = principal.userID else { return [] }
        return try await sessions.list(tenantID: principal.tenant.id, userID: user, at: platform.clock.now, idleTimeout: settings.idleTimeout)
    }

    /// Ends this browser's session.
    @Sendable func signOut(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        if let value = CookieHeader.value(cookie.name, in: request.headers[.cookie]) { try await sessions.end(value) }
        await platform.audit(context, principal, action: "session.sign_out", resource: "user", id: principal.userID?.uuidString)
        var response = redirect(SignInRedirect.path)
        response.headers.append(HTTPField(name: .setCookie, value: cookie.clear))
        return response
    }

    /// Ends every session of the signed-in user, this one included.
    @Sendable func signOutEverywhere(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        if let user = principal.userID {
            let ended = try await sessions.end(tenantID: principal.tenant.id, userID: user)
            await platform.audit(context, principal, action: "session.end_all", resource: "user", id: user.uuidString.lowercased(),
                                 diff: .object(["sessions": .number(Double(ended))]))
        }
        var response = redirect(SignInRedirect.path)
        response.headers.append(HTTPField(name: .setCookie, value: cookie.clear))
        return response
    }

    /// Ends one of the user's other sessions (a browser left signed in elsewhere).
    @Sendable func endSession(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        let id = try context.uuid("id")
        if let user = principal.userID, try await sessions.end(tenantID: principal.tenant.id, userID: user, session: id) > 0 {
            await platform.audit(context, principal, action: "session.end", resource: "session", id: id.uuidString.lowercased())
        }
        return redirect("/auth/account")
    }

    /// The caller's browser sessions (empty for API keys).
    @Sendable func listSessions(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        try JSON.response(["items": try await mySessions(principal)])
    }

    /// Signs the caller out of every browser.
    @Sendable func endAllSessions(_ request: Request, _ context: OwlRequestContext, _ principal: Principal) async throws -> Response {
        guard let user = principal.userID else { return try JSON.response(["ended": 0]) }
        let ended = try await sessions.end(tenantID: principal.tenant.id, userID: user)
        await platform.audit(context, principal, action: "session.end_all", resource: "user", id: user.uuidString.lowercased(),
                             diff: .object(["sessions": .number(Double(ended))]))
        return try JSON.response(["ended": ended])
    }
}

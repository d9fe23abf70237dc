import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OwlCore
import OwlTestSupport
import Testing

@Suite struct WebRuleTests {
    @Test(arguments: [("short", "must be at least 12 characters"), ("correct horse battery", nil), ("            ", "must not be only spaces"),
                      (String(repeating: "ä", count: 40), "must be at most 72 bytes"), (String(repeating: "a", count: 72), nil)] as [(String, String?)])
    func passwordRules(password: String, problem: String?) {
        #expect(PasswordRules.problem(with: password) == problem)
    }

    /// (seconds ago of each failure, limit, locked for how many more seconds or nil)
    @Test(arguments: [([], 5, nil), ([10, 20, 30, 40], 5, nil), ([10, 20, 30, 40, 50], 5, 850.0), ([10, 20, 30, 40, 50, 60], 5, 850),
                      ([10, 20, 30, 40, 901], 5, nil), ([100, 200], 2, 700)] as [([Double], Int, Double?)])
    func signInLimits(agoSeconds: [Double], limit: Int, lockedFor: Double?) {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let until = SignInLimits().lockedUntil(failures: agoSeconds.map { now.addingTimeInterval(-$0) }, limit: limit, at: now)
        #expect(until.map { $0.timeIntervalSince(now) } == lockedFor)
    }

    @Test(arguments: [("/alerts?status=open", "/alerts?status=open"), ("//evil.example/x", "/home"), ("https://evil.example", "/home"),
                      ("/\\evil.example", "/home"), ("/a\nb", "/home"), ("", "/home"), (nil, "/home")] as [(String?, String)])
    func returnPaths(raw: String?, expected: String) {
        #expect(ReturnPath.safe(raw, fallback: "/home") == expected)
    }

    @Test func templatesAllLoad() {
        #expect(WebPages.core.names == ["sign-in", "set-password", "account", "layout", "not-found"])
        #expect(WebPages.core.names == Set(WebPages.core.sources.keys), "every template parses")
    }
}

/// A browser for the router test client: keeps cookies, follows nothing.
final class Browser: @unchecked Sendable {
    var cookies: [String: String] = [:]
    let client: any TestClientProtocol

    init(_ client: any TestClientProtocol) { self.client = client }

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ uri: String, form: [(String, String)]? = nil, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let response = try await client.execute(uri: uri, method: method, headers: headers, body: form.map { ByteBuffer(string: FormEncoding.encode($0)) })
        for field in response.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0])
            if field.value.contains("Max-Age=0") || pair.count < 2 || pair[1].isEmpty { cookies[name] = nil } else { cookies[name] = String(pair[1]) }
        }
        return response
    }

    /// The `_csrf` value of the last form on a page.
    static func csrf(in page: TestResponse) -> String? {
        guard let range = page.text.range(of: #"name="_csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(page.text[range].split(separator: "\"")[3])
    }
}

@Suite struct WebSessionTests {
    struct Setup {
        let app: TestApp
        let tenant: Tenant
        let key: String
        let clock: DrivenClock
        let userID: String
    }

    static let password = "correct horse battery staple"

    /// A tenant with an engineer who has set a password through an invitation link.
    static func setup(role: String = "engineer") async throws -> Setup {
        let clock = DrivenClock(Date(timeIntervalSince1970: 1_800_000_000))
        let app = try await TestApp.make(clock: clock.wallClock)
        let (tenant, key) = try await TestDatabase.makeTenant(app.database)
        let userID = try await app.test { client -> String in
            let user = try await client.call(.post, "/api/v1/users", key: key, json: #"{"email":"Ada@Example.com","display_name":"Ada <b>L</b>","role":"\#(role)"}"#)
            return try #require(user.json["id"]?.stringValue)
        }
        return Setup(app: app, tenant: tenant, key: key, clock: clock, userID: userID)
    }

    static func setPassword(_ s: Setup, _ browser: Browser) async throws -> TestResponse {
        let link = try await browser.client.call(.post, "/api/v1/users/\(s.userID)/password-link", key: s.key)
        #expect(link.status == .created, "\(link.text)")
        let url = try #require(link.json["url"]?.stringValue)
        let path = String(url[try #require(url.range(of: "/auth/password/"))!.lowerBound...])
        let page = try await browser.request(.get, path)
        #expect(page.status == .ok && page.text.contains("Ada@Example.com"))
        let csrf = try #require(Browser.csrf(in: page))
        let short = try await browser.request(.post, path, form: [("_csrf", csrf), ("password", "short"), ("confirm", "short")])
        #expect(short.status == .unprocessableContent && short.text.contains("at least 12 characters"))
        let set = try await browser.request(.post, path, form: [("_csrf", csrf), ("password", password), ("confirm", password)])
        #expect(set.status == .seeOther, "\(set.text)")
        let again = try await browser.request(.get, path)
        #expect(again.status == .notFound && again.text.contains("expired or was used"))
        return set
    }

    static func signIn(_ s: Setup, _ browser: Browser, password: String = password, returnTo: String = "/alerts") async throws -> TestResponse {
        let page = try await browser.request(.get, "/auth/sign-in?return_to=\(FormEncoding.escape(returnTo))")
        let csrf = try #require(Browser.csrf(in: page))
        return try await browser.request(.post, "/auth/sign-in", form: [("_csrf", csrf), ("tenant", s.tenant.slug.value), ("email", "ada@example.com"),
                                                                         ("password", password), ("return_to", returnTo)])
    }

    @Test func signInWithAPasswordStartsANewSessionThatAuthenticatesAndNeedsCSRF() async throws {
        let s = try await Self.setup(role: "admin")
        try await s.app.test { client in
            let browser = Browser(client)
            _ = try await Self.setPassword(s, browser)
            let fromLink = try #require(browser.cookies["owltest_session"])

            let page = try await browser.request(.get, "/auth/sign-in")
            #expect(page.status == .seeOther)                         // signed in already
            browser.cookies["owltest_session"] = nil
            let wrong = try await Self.signIn(s, browser, password: "not the password")
            #expect(wrong.status == .unauthorized && wrong.text.contains("The workspace, email or password is not right."))
            #expect(wrong.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true && wrong.headers[.xFrameOptionsField] == "DENY")

            // A session id an attacker planted before sign-in is not the one after it.
            let form = try await browser.request(.get, "/auth/sign-in?return_to=%2Falerts%3Fstatus%3Dopen")
            browser.cookies["owltest_session"] = "attacker-chosen-id"
            let signedIn = try await browser.request(.post, "/auth/sign-in", form: [
                ("_csrf", Browser.csrf(in: form) ?? ""), ("tenant", s.tenant.slug.value), ("email", "ADA@example.com"), ("password", Self.password),
                ("return_to", "/alerts?status=open")])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/alerts?status=open")
            let cookie = try #require(signedIn.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && !cookie.contains("Secure"))
            let session = try #require(browser.cookies["owltest_session"])
            #expect(session != "attacker-chosen-id" && session != fromLink)
            let planted = Browser(client)
            planted.cookies["owltest_session"] = "attacker-chosen-id"
            #expect(try await planted.request(.get, "/api/v1/ping").status == .unauthorized)

            let ping = try await browser.request(.get, "/api/v1/ping")
            #expect(ping.json["auth_method"]?.stringValue == "session" && ping.json["actor"]?.stringValue == "Ada@Example.com")

            // State changes need the session's CSRF token.
            let account = try await browser.request(.get, "/auth/account")
            #expect(account.status == .ok && account.text.contains("Ada &lt;b&gt;L&lt;/b&gt;"))
            let token = try #require(Browser.csrf(in: account))
            let body = #"{"email":"bo@example.com","display_name":"Bo","role":"readonly"}"#
            var json: HTTPFields = [.contentType: "application/json"]
            let missing = try await browser.client.execute(uri: "/api/v1/users", method: .post,
                                                          headers: [.cookie: "owltest_session=\(session)", .contentType: "application/json"],
                                                          body: ByteBuffer(string: body))
            #expect(missing.status == .forbidden && missing.json["error"]?["code"]?.stringValue == "csrf_failed")
            json[.xCSRFToken] = token + "x"
            json[.cookie] = "owltest_session=\(session)"
            #expect(try await browser.client.execute(uri: "/api/v1/users", method: .post, headers: json, body: ByteBuffer(string: body)).status == .forbidden)
            json[.xCSRFToken] = token
            #expect(try await browser.client.execute(uri: "/api/v1/users", method: .post, headers: json, body: ByteBuffer(string: body)).status == .created)
            #expect(try await browser.request(.post, "/auth/sign-out", form: [("_csrf", "wrong")]).status == .forbidden)

            // Sign out: the cookie is cleared and the session is gone.
            let out = try await browser.request(.post, "/auth/sign-out", form: [("_csrf", token)])
            #expect(out.status == .seeOther && out.headers[.location] == "/auth/sign-in" && browser.cookies["owltest_session"] == nil)
            browser.cookies["owltest_session"] = session
            let after = try await browser.request(.get, "/auth/account")
            #expect(after.status == .seeOther && after.headers[.location] == "/auth/sign-in?return_to=%2Fauth%2Faccount")

            // Signing in (by the invitation link and by password) and out are in the audit log, as the person.
            await s.app.platform.audit.flush()
            let trail = try await client.call(.get, "/api/v1/audit-log?resource_id=\(s.userID.uppercased())", key: s.key).json["items"]?.arrayValue ?? []
            let actions = trail.compactMap { $0["action"]?.stringValue }
            #expect(actions.filter { $0 == "session.start" }.count == 2 && actions.contains("session.sign_out"), "\(actions)")
            #expect(trail.first { $0["action"]?.stringValue == "session.start" }?["actor"]?.stringValue == "user:\(s.userID.lowercased())")
        }
    }

    @Test func sessionsEndWhenIdleAtTheirAbsoluteExpiryAndEverywhereAtOnce() async throws {
        let s = try await Self.setup()
        try await s.app.test { client in
            let phone = Browser(client), laptop = Browser(client)
            _ = try await Self.setPassword(s, phone)
            #expect(try await Self.signIn(s, laptop).status == .seeOther)
            let listed = try await laptop.request(.get, "/api/v1/me/sessions")
            #expect(listed.json["items"]?.arrayValue?.count == 2)
            #expect(listed.json["items"]?.arrayValue?.first?["method"]?.stringValue == "password")

            // Idle for 12 hours: over.
            s.clock.advance(by: 11 * 3_600)
            #expect(try await laptop.request(.get, "/auth/account").status == .ok)
            s.clock.advance(by: 12 * 3_600 + 1)
            #expect(try await phone.request(.get, "/auth/account").status == .seeOther)
            // Used every 11 hours, the laptop's session still ends 7 days after sign-in.
            for _ in 0..<12 {
                s.clock.advance(by: 11 * 3_600)
                if try await laptop.request(.get, "/auth/account").status != .ok { break }
            }
            #expect(s.clock.now.timeIntervalSince(Date(timeIntervalSince1970: 1_800_000_000)) < 7 * 86_400 + 11 * 3_600)
            #expect(try await laptop.request(.get, "/auth/account").status == .seeOther)

            // Sign out everywhere ends every session of the user.
            let a = Browser(client), b = Browser(client)
            #expect(try await Self.signIn(s, a).status == .seeOther)
            #expect(try await Self.signIn(s, b).status == .seeOther)
            let page = try await a.request(.get, "/auth/account")
            #expect(try await a.request(.post, "/auth/sign-out-everywhere", form: [("_csrf", Browser.csrf(in: page) ?? "")]).status == .seeOther)
            #expect(try await b.request(.get, "/api/v1/ping").status == .unauthorized)
        }
    }

    @Test func failedSignInsLockTheAccountWhetherItExistsOrNot() async throws {
        let s = try await Self.setup()
        try await s.app.test { client in
            let browser = Browser(client)
            _ = try await Self.setPassword(s, browser)
            browser.cookies["owltest_session"] = nil
            for _ in 0..<5 { #expect(try await Self.signIn(s, browser, password: "wrong password!").status == .unauthorized) }
            let locked = try await Self.signIn(s, browser)
            #expect(locked.status == .tooManyRequests && locked.text.contains("Try again in 15 minutes"), "\(locked.text)")
            s.clock.advance(by: 15 * 60)
            #expect(try await Self.signIn(s, browser).status == .seeOther)

            // An email without an account answers the same, and locks the same.
            let stranger = Browser(client)
            let page = try await stranger.request(.get, "/auth/sign-in")
            let csrf = try #require(Browser.csrf(in: page))
            var last: TestResponse?
            for _ in 0..<6 {
                last = try await stranger.request(.post, "/auth/sign-in", form: [("_csrf", csrf), ("tenant", s.tenant.slug.value),
                                                                                   ("email", "nobody@example.com"), ("password", "whatever it is")])
            }
            #expect(last?.status == .tooManyRequests)
            // Without the form's cookie nothing is tried.
            let forged = try await Browser(client).request(.post, "/auth/sign-in", form: [("_csrf", csrf), ("tenant", s.tenant.slug.value),
                                                                                            ("email", "ada@example.com"), ("password", Self.password)])
            #expect(forged.status == .forbidden)
        }
    }

    @Test func devSignInListsDemoUsersOnlyInDevMode() async throws {
        let clock = DrivenClock(Date(timeIntervalSince1970: 1_800_000_000))
        let dev = try await TestApp.make(clock: clock.wallClock) { $0.devMode = true }
        let (tenant, key) = try await TestDatabase.makeTenant(dev.database)
        try await dev.test { client in
            let user = try await client.call(.post, "/api/v1/users", key: key, json: #"{"email":"demo@example.com","display_name":"Demo <script>x</script>","role":"manager"}"#)
            let id = try #require(user.json["id"]?.stringValue)
            let browser = Browser(client)
            let page = try await browser.request(.get, "/auth/sign-in?tenant=\(tenant.slug.value)")
            #expect(page.text.contains("Sign in as Demo &lt;script&gt;x&lt;/script&gt; (manager") && !page.text.contains("<script>"))
            let csrf = try #require(Browser.csrf(in: page))
            let signedIn = try await browser.request(.post, "/auth/dev-sign-in", form: [("_csrf", csrf), ("tenant", tenant.slug.value), ("user_id", id)])
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/auth/account")
            #expect(try await browser.request(.get, "/api/v1/ping").json["role"]?.stringValue == "manager")
        }
        let plain = try await TestApp.make(clock: clock.wallClock)
        try await plain.test { client in
            let browser = Browser(client)
            let page = try await browser.request(.get, "/auth/sign-in")
            #expect(!page.text.contains("Development sign-in"))
            let csrf = try #require(Browser.csrf(in: page))
            #expect(try await browser.request(.post, "/auth/dev-sign-in", form: [("_csrf", csrf), ("tenant", "x"), ("user_id", UUID().uuidString)]).status == .notFound)
        }
    }
}

extension HTTPField.Name {
    static let xFrameOptionsField = Self("X-Frame-Options")!
}

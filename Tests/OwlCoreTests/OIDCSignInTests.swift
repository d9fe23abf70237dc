import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import NIOConcurrencyHelpers
import NIOCore
import OwlCore
import OwlTestSupport
import Testing

/// A local identity provider for the authorization code flow, as Keycloak and Dex serve it: discovery, an authorize
/// endpoint (the person "signs in" as `identity`), a token endpoint that checks the client, the redirect URI, the PKCE
/// verifier and that a code is used once, and the JWKS.
final class CodeFlowProvider: Sendable {
    struct Identity: Sendable {
        var subject = "kc-ada"
        var email = "ada@example.com"
        var name = "Ada Lovelace"
        var tenant: String
        var role: String? = "manager"
        /// Make the ID token with another nonce than the one asked for, or already expired.
        var wrongNonce = false
        var expired = false
    }

    let keys = JWTKeyCollection()
    let jwk = NIOLockedValueBox<[String: String]>([:])
    let identity: NIOLockedValueBox<Identity>
    /// code → (client, redirect URI, challenge, nonce)
    let codes = NIOLockedValueBox<[String: (String, String, String, String)]>([:])
    let clientSecret = "s3cret"

    init(tenant: String) { identity = NIOLockedValueBox(Identity(tenant: tenant)) }

    func start() async {
        let key = ES256PrivateKey()
        await keys.add(ecdsa: key, kid: "kc1")
        if let p = key.publicKey.parameters {
            jwk.withLockedValue { $0 = ["kty": "EC", "crv": "P-256", "x": p.x, "y": p.y, "kid": "kc1", "alg": "ES256", "use": "sig"] }
        }
    }

    func application() -> some ApplicationProtocol {
        let router = Router()
        router.get("/.well-known/openid-configuration") { request, _ -> Response in
            let base = "http://\(request.head.authority ?? "")"
            return Self.json(.ok, #"{"issuer":"\#(base)","jwks_uri":"\#(base)/jwks","authorization_endpoint":"\#(base)/authorize","token_endpoint":"\#(base)/token"}"#)
        }
        router.get("/jwks") { [self] _, _ -> Response in
            let data = try JSONSerialization.data(withJSONObject: ["keys": [jwk.withLockedValue { $0 }]])
            return Self.json(.ok, String(decoding: data, as: UTF8.self))
        }
        router.get("/authorize") { [self] request, _ -> Response in
            let q = request.uri.queryParameters
            guard q["response_type"] == "code", q["code_challenge_method"] == "S256", let challenge = q["code_challenge"].map(String.init),
                  let redirect = q["redirect_uri"].map(String.init), let state = q["state"].map(String.init), let nonce = q["nonce"].map(String.init),
                  let client = q["client_id"].map(String.init), q["scope"]?.contains("openid") == true else {
                return Self.json(.badRequest, #"{"error":"invalid_request"}"#)
            }
            let code = UUID().uuidString
            codes.withLockedValue { $0[code] = (client, redirect, challenge, nonce) }
            return Response(status: .found, headers: [.location: "\(redirect)?code=\(code)&state=\(FormEncoding.escape(state))"])
        }
        router.post("/token") { [self] request, _ -> Response in
            var form: [String: String] = [:]
            for (k, v) in FormEncoding.decode(String(buffer: try await request.body.collect(upTo: 1 << 16))) { form[k] = v }
            // A code is used once, by the client it was issued to, with the same redirect URI and the PKCE verifier.
            guard form["grant_type"] == "authorization_code", let code = form["code"],
                  let issued = codes.withLockedValue({ $0.removeValue(forKey: code) }),
                  form["client_id"] == issued.0, form["redirect_uri"] == issued.1, form["client_secret"] == clientSecret,
                  let verifier = form["code_verifier"], PKCE.challenge(for: verifier) == issued.2 else {
                return Self.json(.badRequest, #"{"error":"invalid_grant"}"#)
            }
            let who = identity.withLockedValue { $0 }
            let issuer = "http://\(request.head.authority ?? "")"
            let claims = IssuedClaims(sub: .init(value: who.subject), iss: .init(value: issuer), aud: .init(value: [issued.0]),
                                      exp: .init(value: Date().addingTimeInterval(who.expired ? -600 : 300)), tenant: who.tenant, role: who.role,
                                      email: who.email, nonce: who.wrongNonce ? "another-nonce" : issued.3, name: who.name, email_verified: true)
            let token = try await keys.sign(claims, kid: "kc1")
            return Self.json(.ok, #"{"access_token":"at","token_type":"Bearer","expires_in":300,"id_token":"\#(token)"}"#)
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

@Suite struct OIDCSignInTests {
    /// Follows the flow as a browser would: the service's redirect to the issuer, the issuer's back to the callback.
    static func signIn(_ browser: Browser, returnTo: String = "/alerts") async throws -> (TestResponse, state: String, code: String) {
        let start = try await browser.request(.get, "/auth/oidc/start?return_to=\(FormEncoding.escape(returnTo))")
        #expect(start.status == .seeOther)
        let authorize = try #require(start.headers[.location])
        let (status, headers, _) = try await Self.get(authorize)
        #expect(status == 302, "\(authorize)")
        let location = try #require(headers["Location"] ?? headers["location"])
        let back = try #require(URLComponents(string: location))
        let code = try #require(back.queryItems?.first { $0.name == "code" }?.value)
        let state = try #require(back.queryItems?.first { $0.name == "state" }?.value)
        let callback = try await browser.request(.get, "/auth/oidc/callback?code=\(code)&state=\(FormEncoding.escape(state))")
        return (callback, state, code)
    }

    /// A plain GET to the issuer that does not follow redirects.
    static func get(_ url: String) async throws -> (Int, [String: String], String) {
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow))
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
            var headers: [String: String] = [:]
            for field in response.headers { headers[field.name] = field.value }
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            try await http.shutdown()
            return (Int(response.status.code), headers, body)
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func withProvider(_ body: @escaping @Sendable (CodeFlowProvider, TestApp, Tenant, String, any TestClientProtocol) async throws -> Void) async throws {
        let database = try await TestDatabase.database()
        let (tenant, key) = try await TestDatabase.makeTenant(database)
        let provider = CodeFlowProvider(tenant: tenant.slug.value)
        await provider.start()
        try await provider.application().test(.live) { idp in
            let issuer = "http://127.0.0.1:\(try #require(idp.port))"
            let app = try await TestApp.make(database: database) {
                $0.oidc = OIDCSettings(issuer: issuer, audience: "owl-api", minimumKeyRefresh: .zero, clientID: "owl-console",
                                       clientSecret: provider.clientSecret, redirectURL: "https://owl.example.com/auth/oidc/callback")
            }
            try await app.test { client in try await body(provider, app, tenant, key, client) }
        }
    }

    @Test func theCodeFlowProvisionsThePersonAndStartsASession() async throws {
        try await Self.withProvider { provider, app, tenant, key, client in
            let browser = Browser(client)
            let page = try await browser.request(.get, "/auth/sign-in")
            #expect(page.text.contains(#"href="/auth/oidc/start?return_to=%2Fauth%2Faccount""#))
            let (callback, _, _) = try await Self.signIn(browser, returnTo: "/alerts?status=open")
            #expect(callback.status == .seeOther && callback.headers[.location] == "/alerts?status=open", "\(callback.text)")
            let ping = try await browser.request(.get, "/api/v1/ping")
            #expect(ping.json["auth_method"]?.stringValue == "session" && ping.json["role"]?.stringValue == "manager")
            // Provisioned just in time from the token's claims, and audited.
            let users = try await client.call(.get, "/api/v1/users", key: key)
            let ada = try #require(users.json["items"]?.arrayValue?.first { $0["email"]?.stringValue == "ada@example.com" })
            #expect(ada["external_id"]?.stringValue == "kc-ada" && ada["display_name"]?.stringValue == "Ada Lovelace" && ada["role"]?.stringValue == "manager")
            await app.platform.audit.flush()
            let audit = try await client.call(.get, "/api/v1/audit-log?action=user.provision", key: key)
            #expect(audit.json["items"]?.arrayValue?.count == 1)

            // The second sign-in finds the same person; without a role claim their role stays.
            provider.identity.withLockedValue { $0.role = nil }
            let again = Browser(client)
            #expect(try await Self.signIn(again).0.status == .seeOther)
            #expect(try await again.request(.get, "/api/v1/ping").json["role"]?.stringValue == "manager")
            let everyone = try await client.call(.get, "/api/v1/users", key: key).json["items"]?.arrayValue ?? []
            #expect(everyone.filter { $0["email"]?.stringValue == "ada@example.com" }.count == 1)
        }
    }

    @Test func aWrongStateAReplayedCodeAWrongNonceAndAnExpiredTokenAreRefused() async throws {
        try await Self.withProvider { provider, _, _, _, client in
            let browser = Browser(client)
            let (first, state, code) = try await Self.signIn(browser)
            #expect(first.status == .seeOther)
            let fresh = Browser(client)
            // The same state and code again: the state was used up.
            let replayed = try await browser.request(.get, "/auth/oidc/callback?code=\(code)&state=\(FormEncoding.escape(state))")
            #expect(replayed.status == .badRequest && replayed.text.contains("expired or was used"))
            // A state this service never issued, or one started in another browser (a callback link sent to a victim).
            #expect(try await fresh.request(.get, "/auth/oidc/callback?code=\(code)&state=forged").status == .badRequest)
            let attacker = Browser(client)
            let started = try await attacker.request(.get, "/auth/oidc/start")
            let (_, redirected, _) = try await Self.get(try #require(started.headers[.location]))
            let link = try #require(redirected["Location"] ?? redirected["location"]).replacingOccurrences(of: "https://owl.example.com", with: "")
            let victim = Browser(client)
            let csrf = try await victim.request(.get, link)
            #expect(csrf.status == .badRequest && csrf.text.contains("not started in this browser") && victim.cookies["owltest_session"] == nil)
            #expect(try await fresh.request(.get, "/auth/oidc/callback?error=access_denied").status == .unauthorized)

            // A fresh state with a code already used: the issuer refuses the exchange.
            let start = try await fresh.request(.get, "/auth/oidc/start")
            let authorizeURL = try #require(start.headers[.location])
            let newState = try #require(URLComponents(string: authorizeURL)?.queryItems?.first { $0.name == "state" }?.value)
            let reused = try await fresh.request(.get, "/auth/oidc/callback?code=\(code)&state=\(FormEncoding.escape(newState))")
            #expect(fresh.cookies["owltest_oidc"] == newState)
            #expect(reused.status == .unauthorized && reused.text.contains("invalid_grant"))

            provider.identity.withLockedValue { $0.wrongNonce = true }
            let nonce = try await Self.signIn(Browser(client)).0
            #expect(nonce.status == .unauthorized && nonce.text.contains("nonce does not match"))
            provider.identity.withLockedValue { $0.wrongNonce = false; $0.expired = true }
            let expired = try await Self.signIn(Browser(client)).0
            #expect(expired.status == .unauthorized && expired.text.contains("expired"))
            provider.identity.withLockedValue { $0.expired = false; $0.tenant = "no_such_tenant" }
            #expect(try await Self.signIn(Browser(client)).0.status == .forbidden)
            #expect(fresh.cookies["owltest_session"] == nil)
        }
    }
}

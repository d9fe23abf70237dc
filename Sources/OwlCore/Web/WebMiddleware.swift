import Foundation
import HTTPTypes
import Hummingbird

/// Refuses a state-changing request of a browser session that does not carry the session's CSRF token, in the
/// `X-CSRF-Token` header (scripts) or the `_csrf` field of a form, compared in constant time. API keys and bearer tokens
/// are not sent by browsers on their own, so their requests need none.
public struct CSRFMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    public static let field = "_csrf"
    let bodyLimit: Int

    public init(bodyLimit: Int) { self.bodyLimit = bodyLimit }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let principal = context.principal, principal.method == .session, !Self.isSafe(request.method) else {
            return try await next(request, context)
        }
        var request = request
        var sent = request.headers[.xCSRFToken]
        if sent == nil, request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true {
            let body = try await request.collectBody(upTo: bodyLimit)
            sent = FormEncoding.decode(String(buffer: body)).last { $0.0 == Self.field }?.1
        }
        guard let sent, let expected = principal.csrfToken, ConstantTime.equal(sent, expected) else {
            throw APIError(.forbidden, code: "csrf_failed", message: "this form has expired or did not come from this site; reload the page and try again")
        }
        return try await next(request, context)
    }

    static func isSafe(_ method: HTTPRequest.Method) -> Bool { method == .get || method == .head || method == .options }
}

/// Headers of every response, and the stricter ones of HTML pages: no inline or foreign scripts, no framing, no
/// MIME sniffing, no referrer to other sites, and no caching of pages that show a person's data.
public struct SecurityHeadersMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    public static let contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy }
            response.headers[.xFrameOptions] = "DENY"
            response.headers[.referrerPolicy] = "same-origin"
            if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        }
        return response
    }
}

extension HTTPField.Name {
    public static let xCSRFToken = Self("X-CSRF-Token")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

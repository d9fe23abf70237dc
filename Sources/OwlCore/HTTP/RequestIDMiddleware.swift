import Foundation
import HTTPTypes
import Hummingbird

/// Accepts a sane `X-Request-ID` or makes one, puts it on every log line of the request and on the response.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let ids: RequestIDSource
    public init(ids: RequestIDSource = RequestIDSource()) { self.ids = ids }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let incoming = request.headers[.xRequestID]
        let id = incoming.flatMap(Self.isAcceptable) == true ? incoming! : ids.next().text(lowercase: true)
        context.requestID = id
        context.logger[metadataKey: "request_id"] = .string(id)
        context.logger[metadataKey: "hb.request.id"] = nil
        do {
            var response = try await next(request, context)
            response.headers[.xRequestID] = id
            return response
        } catch let error as any HTTPResponseError {
            var response = try error.response(from: request, context: context)
            response.headers[.xRequestID] = id
            return response
        }
    }

    /// Up to 128 visible ASCII characters: an id from a proxy is kept, a log-injection attempt is not.
    static func isAcceptable(_ value: String) -> Bool {
        !value.isEmpty && value.count <= 128 && value.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}

extension HTTPField.Name {
    public static let xRequestID = Self("X-Request-ID")!
    public static let xAPIKey = Self("X-API-Key")!
    public static let xTenantSlug = Self("X-Tenant-Slug")!
}

import Hummingbird

/// CORS for the configured origins only. `*` allows any origin (without credentials).
public struct OwlCORSMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let origins: Set<String>

    public init(origins: [String]) { self.origins = Set(origins) }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], !origins.isEmpty, origins.contains("*") || origins.contains(origin) else {
            return try await next(request, context)
        }
        let allowOrigin = origins.contains("*") ? "*" : origin
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            return Response(status: .noContent, headers: [
                .accessControlAllowOrigin: allowOrigin,
                .accessControlAllowMethods: "GET, POST, PUT, PATCH, DELETE, OPTIONS",
                .accessControlAllowHeaders: "Authorization, Content-Type, X-API-Key, X-Request-ID, X-Tenant-Slug",
                .accessControlMaxAge: "600",
                .vary: "Origin",
            ])
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.accessControlAllowOrigin] = allowOrigin
        response.headers[.accessControlExposeHeaders] = "X-Request-ID"
        response.headers[.vary] = "Origin"
        return response
    }
}

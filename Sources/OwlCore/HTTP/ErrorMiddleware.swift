import Hummingbird
import Logging

/// Turns every error into the JSON error body. Errors that are not the client's fault become a 500 whose
/// details stay in the log, never in the response.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            throw Self.translate(error)
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, code: "cancelled", message: "the request was cancelled")
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            throw APIError(.internalServerError, code: "internal", message: "internal error; see the server log for request \(context.requestID)")
        }
    }

    static func translate(_ error: HTTPError) -> APIError {
        switch error.status {
        case .notFound: APIError(.notFound, code: "not_found", message: "no such route")
        case .contentTooLarge: APIError(.contentTooLarge, code: "payload_too_large", message: "request body is too large")
        case .methodNotAllowed: APIError(.methodNotAllowed, code: "method_not_allowed", message: "method not allowed")
        default:
            APIError(error.status, code: error.status.code < 500 ? "bad_request" : "internal",
                     message: error.body ?? error.status.reasonPhrase)
        }
    }
}

/// Refuses a declared body larger than the limit before it is read.
public struct BodyLimitMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let limit: Int
    public init(limit: Int) { self.limit = limit }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "request body exceeds \(limit) bytes")
        }
        return try await next(request, context)
    }
}

import Hummingbird
import Logging
import PostgresNIO

/// Turns every error into the JSON error body. Errors that are not the client's fault become a 500 whose
/// details stay in the log, never in the response.
public struct ErrorMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    let routes: RouteList?

    /// `routes` lets a known path asked with another method be answered 405 with `Allow` instead of 404.
    public init(routes: RouteList? = nil) { self.routes = routes }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            if error.status == .notFound, let allowed = routes?.methods(matching: request.uri.path), !allowed.isEmpty {
                throw APIError(.methodNotAllowed, code: "method_not_allowed",
                               message: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))",
                               headers: [.allow: allowed.joined(separator: ", ")])
            }
            throw Self.translate(error)
        } catch is CancellationError {
            throw APIError(.serviceUnavailable, code: "cancelled", message: "the request was cancelled")
        } catch let error where PostgresErrorCode.code(of: error).map(Self.isClientData) == true {
            // A value the database refused that validation let through (a NUL character, a number out of range):
            // the client's input, so a 4xx, and nothing was written since the statement failed. Logged, because
            // it means a validation is missing.
            context.logger.warning("database refused a value", metadata: ["error": .string(String(reflecting: error))])
            throw Self.translate(databaseError: error)
        } catch {
            context.logger.error("unhandled error", metadata: ["error": .string(String(reflecting: error))])
            throw APIError(.internalServerError, code: "internal", message: "internal error; see the server log for request \(context.requestID)")
        }
    }

    /// SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation).
    static func isClientData(_ sqlState: String) -> Bool { sqlState.hasPrefix("22") || sqlState.hasPrefix("23") }

    static func translate(databaseError error: any Error) -> APIError {
        let state = PostgresErrorCode.code(of: error) ?? ""
        switch state {
        case "22021", "22P05":
            return .validation("text must be valid UTF-8 without NUL characters (\\u0000)")
        case "23505":
            return .conflict("a record with these values already exists")
        case "23503":
            return .conflict("a record this refers to does not exist, or another record still refers to this one")
        default:
            let reason = (error as? PSQLError)?.serverInfo?[.message] ?? "a value is invalid"
            return APIError(.unprocessableContent, code: "validation_failed", message: "a value cannot be stored: \(reason)")
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

/// Refuses a URL that carries a NUL character (`%00`): no path or query value may hold one, and PostgreSQL could
/// not store or compare it.
public struct URLGuardMiddleware: RouterMiddleware {
    public typealias Context = OwlRequestContext
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.string.utf8.containsPercentEncodedNUL {
            throw APIError.badRequest("the URL must not contain a NUL character (%00)", code: "invalid_url")
        }
        return try await next(request, context)
    }
}

extension String.UTF8View {
    var containsPercentEncodedNUL: Bool {
        var index = startIndex
        while let percent = self[index...].firstIndex(of: UInt8(ascii: "%")) {
            let first = self.index(after: percent)
            guard first != endIndex else { return false }
            let second = self.index(after: first)
            guard second != endIndex else { return false }
            if self[first] == UInt8(ascii: "0"), self[second] == UInt8(ascii: "0") { return true }
            index = first
        }
        return false
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

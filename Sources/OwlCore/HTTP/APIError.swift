import Foundation
import Hummingbird

/// An error a client can act on. Every 4xx answer in Owl is one of these, rendered as
/// `{"error": {"code", "message", "details"}}`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: JSONValue?
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, details: JSONValue? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers
    }

    public static func badRequest(_ message: String, code: String = "bad_request", details: JSONValue? = nil) -> APIError {
        APIError(.badRequest, code: code, message: message, details: details)
    }
    public static func validation(_ message: String, field: String? = nil) -> APIError {
        APIError(.unprocessableContent, code: "validation_failed", message: message,
                 details: field.map { .object(["field": .string($0)]) })
    }
    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found")
    }
    public static func conflict(_ message: String) -> APIError {
        APIError(.conflict, code: "conflict", message: message)
    }
    public static let unauthorized = APIError(.unauthorized, code: "unauthorized", message: "authentication required",
                                              headers: [.wwwAuthenticate: "Bearer"])
    public static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message, headers: [.wwwAuthenticate: "Bearer"])
    }
    public static func forbidden(_ message: String) -> APIError {
        APIError(.forbidden, code: "forbidden", message: message)
    }
    public static let unavailable = APIError(.serviceUnavailable, code: "unavailable", message: "the database is not reachable")
}

struct ErrorBody: Encodable {
    struct Inner: Encodable {
        let code: String
        let message: String
        let details: JSONValue?
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(code, forKey: .code)
            try c.encode(message, forKey: .message)
            try c.encode(details ?? .null, forKey: .details)
        }
        enum CodingKeys: String, CodingKey { case code, message, details }
    }
    let error: Inner
}

extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = ErrorBody(error: .init(code: code, message: message, details: details))
        var response = try JSON.response(body, status: status)
        for field in headers { response.headers.append(field) }
        return response
    }
}

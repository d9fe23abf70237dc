import Foundation
import Hummingbird

/// JSON encoding and strict decoding shared by every route. Keys are spelled out in each type's `CodingKeys`.
public enum JSON {
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(text)' is not an RFC 3339 time")
            }
            return date
        }
        return decoder
    }

    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// Decodes a request body, turning every decoding failure into a 400/422 `APIError` that names the field.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "request body exceeds \(limit) bytes")
        }
        return try decode(type, from: Data(buffer: buffer))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        guard !data.isEmpty else { throw APIError.badRequest("request body is empty", code: "invalid_json") }
        do {
            return try decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw apiError(for: error)
        }
    }

    static func apiError(for error: DecodingError) -> APIError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .badRequest("request body is not valid JSON", code: "invalid_json")
        case .dataCorrupted(let context):
            return .validation("\(path(context.codingPath)): \(context.debugDescription)", field: path(context.codingPath))
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .validation("\(field) is required", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return .validation("\(field.isEmpty ? "body" : field) has the wrong type (expected \(type))", field: field)
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .validation("\(field) must not be null", field: field)
        @unknown default:
            return .badRequest("request body could not be decoded", code: "invalid_json")
        }
    }
}

/// A value decoded from a fixed set of strings; anything else is a 422 that lists the accepted values.
public protocol StrictEnum: RawRepresentable, Codable, CaseIterable, Sendable where RawValue == String {}

extension StrictEnum {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let raw = try c.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            let accepted = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(raw)' is not one of: \(accepted)")
        }
        self = value
    }

    /// Parses a query parameter, or throws a 422 naming it.
    public static func parse(_ raw: String, field: String) throws -> Self {
        guard let value = Self(rawValue: raw) else {
            throw APIError.validation("\(field): '\(raw)' is not one of: \(allCases.map(\.rawValue).joined(separator: ", "))", field: field)
        }
        return value
    }
}

/// RFC 3339 times, with or without fractional seconds, any offset; always written in UTC with milliseconds.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        // Milliseconds by integer arithmetic: a stored .123 comes back as .12299999…, which a formatter would truncate.
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, fraction) = millis.quotientAndRemainder(dividingBy: 1000)
        let whole = Date(timeIntervalSince1970: TimeInterval(fraction < 0 ? seconds - 1 : seconds))
            .formatted(Date.ISO8601FormatStyle())
        return String(whole.dropLast()) + "." + String(format: "%03d", fraction < 0 ? fraction + 1000 : fraction) + "Z"
    }

    public static func parse(_ text: String) -> Date? {
        // ISO8601DateFormatter is not Sendable; a fresh one per call keeps this free of shared state.
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}

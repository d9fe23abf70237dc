import Foundation
import Hummingbird

/// JSON encoding and strict decoding shared by every route. Keys are spelled out in each type's `CodingKeys`.
public enum JSON {
    public static let encoder = makeEncoder()

    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

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
        if let document = value as? any JSONDocumentWritable {
            return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: document.jsonDocument())))
        }
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// A response whose values depend on the instant they are encoded at (`Encoder.instant()`).
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, now: Date) throws -> Response {
        let encoder = makeEncoder()
        encoder.userInfo[.owlNow] = now
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
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
        if containsEscapedNUL(data) {
            throw APIError.validation("text must not contain the NUL character (\\u0000)")
        }
        do {
            return try decoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw apiError(for: error)
        }
    }

    /// Whether a JSON text escapes a NUL (`\u0000`), which no column can store. An escaped backslash followed by
    /// `u0000` is text, not a NUL, so escapes are skipped pairwise.
    static func containsEscapedNUL(_ data: Data) -> Bool {
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Bool in
            var index = 0
            let count = bytes.count
            while index < count {
                guard bytes[index] == UInt8(ascii: "\\") else { index += 1; continue }
                if index + 5 < count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "0"),
                   bytes[index + 3] == UInt8(ascii: "0"), bytes[index + 4] == UInt8(ascii: "0"), bytes[index + 5] == UInt8(ascii: "0") {
                    return true
                }
                index += 2
            }
            return false
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
/// Parsed and written by hand: every webhook alert carries times, and Foundation's formatters build ICU objects each
/// time, which cost more than the rest of the request.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var (seconds, fraction) = millis.quotientAndRemainder(dividingBy: 1000)
        if fraction < 0 { seconds -= 1; fraction += 1000 }
        var (days, secondOfDay) = seconds.quotientAndRemainder(dividingBy: 86_400)
        if secondOfDay < 0 { days -= 1; secondOfDay += 86_400 }
        let (year, month, day) = civil(fromDays: days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):"
            + "\(pad(secondOfDay % 60, 2)).\(pad(fraction, 3))Z"
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t` and `z` in lower case too. Anything else is nil.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int64? {
            guard at + count <= b.count else { return nil }
            var value: Int64 = 0
            for i in at..<(at + count) {
                guard (48...57).contains(b[i]) else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard b.count >= 20, let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45, let day = number(8, 2),
              b[10] == 84 || b[10] == 116 || b[10] == 32, let hour = number(11, 2), b[13] == 58, let minute = number(14, 2),
              b[16] == 58, let second = number(17, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if b[index] == 46 {
            index += 1
            var scale = 0.1
            let start = index
            while index < b.count, (48...57).contains(b[index]) {
                fraction += Double(b[index] - 48) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < b.count else { return nil }
        var offset: Int64 = 0
        switch b[index] {
        case 90, 122:
            guard index + 1 == b.count else { return nil }
        case 43, 45:
            guard index + 6 == b.count, let oh = number(index + 1, 2), b[index + 3] == 58, let om = number(index + 4, 2), oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (b[index] == 45 ? -1 : 1)
        default:
            return nil
        }
        let seconds = days(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 { Int64(LocalDate.daysIn(month: Int(month), year: Int(year))) }

    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        Int64(LocalDate.days(year: Int(year), month: Int(month), day: Int(day)))
    }

    static func civil(fromDays z: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let (year, month, day) = LocalDate(daysSinceEpoch: Int(z)).components
        return (Int64(year), Int64(month), Int64(day))
    }
}

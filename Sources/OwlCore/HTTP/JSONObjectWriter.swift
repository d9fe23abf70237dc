import Foundation

/// A value that writes its own JSON object, byte for byte what `JSON.encoder` writes for it (keys sorted by their
/// UTF-8 bytes, slashes unescaped, times as `Timestamp.format`, nil optionals left out). For the list responses that
/// carry many rows: JSONEncoder spent more time on a page of search results than PostgreSQL did finding them. Tests
/// hold each conformance to JSONEncoder's bytes.
public protocol JSONObjectWritable: Encodable, Sendable {
    func writeMembers(into object: inout JSONObjectWriter)
}

/// A document `JSON.response` can write without JSONEncoder.
public protocol JSONDocumentWritable: Encodable, Sendable {
    func jsonDocument() -> String
}

/// Collects an object's members, each already written as JSON, and joins them in JSONEncoder's key order.
public struct JSONObjectWriter {
    private var members: [(key: String, json: String)] = []

    public init() {}

    public mutating func raw(_ key: String, _ json: String) { members.append((key, json)) }

    public mutating func string(_ key: String, _ value: String) {
        var out = ""
        JSONObjectWriter.writeString(value, into: &out)
        members.append((key, out))
    }

    public mutating func string(_ key: String, _ value: String?) {
        if let value { string(key, value) }
    }

    public mutating func strings(_ key: String, _ values: [String]) {
        var out = "["
        for (index, value) in values.enumerated() {
            if index > 0 { out += "," }
            JSONObjectWriter.writeString(value, into: &out)
        }
        members.append((key, out + "]"))
    }

    public mutating func stringMap(_ key: String, _ map: [String: String]) {
        var inner = JSONObjectWriter()
        for (k, v) in map { inner.string(k, v) }
        members.append((key, inner.finish()))
    }

    public mutating func uuid(_ key: String, _ value: UUID?) {
        if let value { members.append((key, "\"" + value.text() + "\"")) }
    }

    public mutating func uuids(_ key: String, _ values: [UUID]) { strings(key, values.map { $0.text() }) }

    public mutating func date(_ key: String, _ value: Date?) {
        if let value { string(key, Timestamp.format(value)) }
    }

    public mutating func int(_ key: String, _ value: Int) { members.append((key, String(value))) }

    public mutating func bool(_ key: String, _ value: Bool) { members.append((key, value ? "true" : "false")) }

    /// Doubles as JSONEncoder writes them: the shortest form that reads back, without a trailing ".0".
    public mutating func double(_ key: String, _ value: Double) { members.append((key, JSONObjectWriter.number(value))) }

    public mutating func object(_ key: String, _ value: some JSONObjectWritable) { members.append((key, value.jsonObject())) }

    public mutating func objects(_ key: String, _ values: [some JSONObjectWritable]) {
        members.append((key, "[" + values.map { $0.jsonObject() }.joined(separator: ",") + "]"))
    }

    /// The object's text, members in JSONEncoder's `.sortedKeys` order.
    public func finish() -> String {
        let sorted = members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var out = "{"
        for (index, member) in sorted.enumerated() {
            if index > 0 { out += "," }
            JSONObjectWriter.writeString(member.key, into: &out)
            out += ":"
            out += member.json
        }
        return out + "}"
    }

    static func number(_ value: Double) -> String {
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    /// A JSON string as JSONEncoder escapes it (with `.withoutEscapingSlashes`). Most text needs no escape and is
    /// appended whole; otherwise the UTF-8 bytes are copied run by run.
    public static func writeString(_ text: String, into out: inout String) {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else {
            out += "\""
            out += text
            out += "\""
            return
        }
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        out += String(decoding: bytes, as: UTF8.self)
    }
}

extension JSONObjectWritable {
    public func jsonObject() -> String {
        var object = JSONObjectWriter()
        writeMembers(into: &object)
        return object.finish()
    }
}

extension Flattened: JSONObjectWritable where Base: JSONObjectWritable, Extra: JSONObjectWritable {
    public func writeMembers(into object: inout JSONObjectWriter) {
        base.writeMembers(into: &object)
        extra.writeMembers(into: &object)
    }
}

extension OffsetList: JSONDocumentWritable where Item: JSONObjectWritable {
    public func jsonDocument() -> String {
        var object = JSONObjectWriter()
        object.objects("items", items)
        object.int("total", total)
        object.int("limit", limit)
        object.int("offset", offset)
        return object.finish()
    }
}

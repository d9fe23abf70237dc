/// Encodes `base` and `extra` as one JSON object: a record plus a few fields that belong to one response only
/// (a raw key shown once, a linked record, a search rank), without copying the record's coding keys.
public struct Flattened<Base: Encodable & Sendable, Extra: Encodable & Sendable>: Encodable, Sendable {
    public var base: Base
    public var extra: Extra

    public init(_ base: Base, _ extra: Extra) {
        self.base = base
        self.extra = extra
    }

    public func encode(to encoder: any Encoder) throws {
        try base.encode(to: encoder)
        try extra.encode(to: encoder)
    }
}

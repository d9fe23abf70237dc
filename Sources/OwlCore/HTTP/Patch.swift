/// A field of a partial update that can be kept (absent), cleared (`null`) or set.
public enum Patch<Value: Sendable>: Sendable {
    case keep
    case clear
    case set(Value)

    public init<Key: CodingKey>(_ container: KeyedDecodingContainer<Key>, _ key: Key) throws where Value: Decodable {
        guard container.contains(key) else { self = .keep; return }
        self = try container.decodeNil(forKey: key) ? .clear : .set(container.decode(Value.self, forKey: key))
    }

    public func map<T>(_ transform: (Value) throws -> T) rethrows -> Patch<T> {
        switch self {
        case .keep: .keep
        case .clear: .clear
        case .set(let value): .set(try transform(value))
        }
    }

    /// The value to store: `current` when kept.
    public func applied(to current: Value?) -> Value? {
        switch self {
        case .keep: current
        case .clear: nil
        case .set(let value): value
        }
    }

    public var isKept: Bool { if case .keep = self { true } else { false } }
}

extension Patch: Equatable where Value: Equatable {}

import Foundation

/// A validated tenant slug. The only way to name a tenant schema, so a schema name in SQL is always safe.
public struct TenantSlug: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    /// `^[a-z][a-z0-9_]{0,40}$`
    public init?(_ raw: String) {
        guard Self.isValid(raw) else { return nil }
        value = raw
    }

    public static func isValid(_ raw: String) -> Bool {
        let bytes = Array(raw.utf8)
        guard let first = bytes.first, bytes.count <= 41, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first) else { return false }
        return bytes.dropFirst().allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_")
        }
    }

    /// `tenant_<slug>`; quoted for SQL.
    public var schemaName: String { "tenant_\(value)" }
    public var quotedSchema: String { "\"tenant_\(value)\"" }
    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let raw = try c.decode(String.self)
        guard let slug = TenantSlug(raw) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(raw)' is not a tenant slug (^[a-z][a-z0-9_]{0,40}$)")
        }
        self = slug
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}

/// A row of `public.tenants`.
public struct Tenant: Sendable, Equatable, Codable {
    public var id: UUID
    public var name: String
    public var slug: TenantSlug
    public var createdAt: Date

    public init(id: UUID, name: String, slug: TenantSlug, createdAt: Date) {
        self.id = id
        self.name = name
        self.slug = slug
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey { case id, name, slug, createdAt = "created_at" }
}

import Foundation
import OwlCore

/// A procedure in Markdown. Shipped templates have a `template_key` and are read-only.
public struct Runbook: Codable, Sendable, Equatable {
    public var id: UUID
    public var title: String
    public var content: String
    public var category: String
    public var tags: [String]
    public var templateKey: String?
    public var createdBy: String
    public var createdAt: Date
    public var updatedAt: Date
    public var isTemplate: Bool { templateKey != nil }

    enum CodingKeys: String, CodingKey {
        case id, title, content, category, tags
        case templateKey = "template_key", isTemplate = "is_template", createdBy = "created_by"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    public init(id: UUID, title: String, content: String, category: String, tags: [String], templateKey: String?,
                createdBy: String, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.title = title
        self.content = content
        self.category = category
        self.tags = tags
        self.templateKey = templateKey
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(UUID.self, forKey: .id), title: try c.decode(String.self, forKey: .title),
                  content: try c.decode(String.self, forKey: .content), category: try c.decode(String.self, forKey: .category),
                  tags: try c.decode([String].self, forKey: .tags), templateKey: try c.decodeIfPresent(String.self, forKey: .templateKey),
                  createdBy: try c.decode(String.self, forKey: .createdBy), createdAt: try c.decode(Date.self, forKey: .createdAt),
                  updatedAt: try c.decode(Date.self, forKey: .updatedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(title, forKey: .title)
        try c.encode(content, forKey: .content)
        try c.encode(category, forKey: .category)
        try c.encode(tags, forKey: .tags)
        try c.encode(templateKey, forKey: .templateKey)
        try c.encode(isTemplate, forKey: .isTemplate)
        try c.encode(createdBy, forKey: .createdBy)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
    }
}

/// Body of `POST /api/v1/runbooks` and `PUT /api/v1/runbooks/{id}` (on PUT, fields present are changed).
struct RunbookInput: Decodable {
    var title: String?
    var content: String?
    var category: String?
    var tags: [String]?

    func validated(creating: Bool) throws -> RunbookInput {
        if creating, title == nil { throw APIError.validation("title is required", field: "title") }
        return RunbookInput(
            title: try title.map { try Field.requiredText($0, "title", max: 300) },
            content: try content.map { try Field.optionalText($0, "content", max: 200_000) },
            category: try category.map { try Field.optionalText($0, "category", max: 100) },
            tags: try tags.map { try Field.list($0, "tags", maxItems: 50, maxLength: 100) })
    }
}

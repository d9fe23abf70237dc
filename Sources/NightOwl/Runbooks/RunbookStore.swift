import Foundation
import OwlCore
import PostgresNIO

/// SQL for `runbooks`.
struct RunbookStore {
    let logger: Logger

    static let columns = "id, title, content, category, tags, template_key, created_by, created_at, updated_at"

    static func decode(_ row: PostgresRow) throws -> Runbook {
        let (id, title, content, category, tags, key, createdBy, created, updated) =
            try row.decode((UUID, String, String, String, [String], String?, String, Date, Date).self)
        return Runbook(id: id, title: title, content: content, category: category, tags: tags, templateKey: key,
                       createdBy: createdBy, createdAt: created, updatedAt: updated)
    }

    func create(_ input: RunbookInput, by actor: String, on connection: PostgresConnection) async throws -> Runbook {
        let rows = try await connection.query("""
            INSERT INTO runbooks (title, content, category, tags, created_by)
            VALUES (\(input.title ?? ""), \(input.content ?? ""), \(input.category ?? ""), \(input.tags ?? []), \(actor))
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows { return try Self.decode(row) }
        throw APIError.conflict("the runbook could not be stored")
    }

    func get(_ id: UUID, on connection: PostgresConnection) async throws -> Runbook? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM runbooks WHERE id = \(id)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    struct Filter {
        var category: String?
        var tag: String?
        var templates: Bool?
        var text: String?
    }

    func list(_ filter: Filter, page: OffsetPage, on connection: PostgresConnection) async throws -> ([Runbook], Int) {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns), count(*) OVER () FROM runbooks
            WHERE (\(filter.category)::text IS NULL OR category = \(filter.category))
              AND (\(filter.tag)::text IS NULL OR \(filter.tag) = ANY(tags))
              AND (\(filter.templates)::boolean IS NULL OR (template_key IS NOT NULL) = \(filter.templates))
              AND (\(filter.text)::text IS NULL OR title ILIKE '%' || \(filter.text) || '%')
            ORDER BY (template_key IS NULL) DESC, lower(title), id
            LIMIT \(page.limit) OFFSET \(page.offset)
            """, logger: logger)
        let (items, total) = try await rows.page(Self.decode)
        return (items, total)
    }

    /// Changes the fields given; templates are refused by the caller before this runs.
    func update(_ id: UUID, _ input: RunbookInput, on connection: PostgresConnection) async throws -> (before: Runbook, after: Runbook)? {
        guard let before = try await lock(id, on: connection) else { return nil }
        let rows = try await connection.query("""
            UPDATE runbooks SET title = COALESCE(\(input.title), title), content = COALESCE(\(input.content), content),
                   category = COALESCE(\(input.category), category), tags = COALESCE(\(input.tags), tags), updated_at = now()
            WHERE id = \(id) RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        for try await row in rows { return (before, try Self.decode(row)) }
        return nil
    }

    func lock(_ id: UUID, on connection: PostgresConnection) async throws -> Runbook? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM runbooks WHERE id = \(id) FOR UPDATE", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    func delete(_ id: UUID, on connection: PostgresConnection) async throws -> Runbook? {
        let rows = try await connection.query("DELETE FROM runbooks WHERE id = \(id) AND template_key IS NULL RETURNING \(unescaped: Self.columns)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }

    /// Inserts or refreshes a shipped template (idempotent).
    func upsertTemplate(_ template: RunbookTemplate, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO runbooks (title, content, category, tags, template_key, created_by)
            VALUES (\(template.title), \(template.content), \(template.category), \(template.tags), \(template.key), 'owl')
            ON CONFLICT (template_key) DO UPDATE SET title = EXCLUDED.title, content = EXCLUDED.content,
                category = EXCLUDED.category, tags = EXCLUDED.tags, updated_at = now()
            WHERE (runbooks.title, runbooks.content, runbooks.category, runbooks.tags)
                  IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.content, EXCLUDED.category, EXCLUDED.tags)
            """, logger: logger)
    }

    func template(key: String, on connection: PostgresConnection) async throws -> Runbook? {
        let rows = try await connection.query("SELECT \(unescaped: Self.columns) FROM runbooks WHERE template_key = \(key)", logger: logger)
        for try await row in rows { return try Self.decode(row) }
        return nil
    }
}

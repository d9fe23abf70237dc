import OwlCore

/// Field rules shared by NightOwl's inputs; each failure is a 422 naming the field.
enum Field {
    /// Trimmed, non-empty, at most `max` characters, without control characters other than newlines and tabs.
    static func requiredText(_ value: String, _ field: String, max: Int) throws -> String {
        let text = try optionalText(value, field, max: max)
        guard !text.isEmpty else { throw APIError.validation("\(field) must not be empty", field: field) }
        return text
    }

    static func optionalText(_ value: String, _ field: String, max: Int) throws -> String {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.count <= max else { throw APIError.validation("\(field) must be at most \(max) characters", field: field) }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" && $0 != "\r" }) else {
            throw APIError.validation("\(field) contains control characters", field: field)
        }
        return text
    }

    /// Trimmed, de-duplicated, no empty items, at most `maxItems` of at most `maxLength` characters.
    static func list(_ values: [String], _ field: String, maxItems: Int = 100, maxLength: Int = 200) throws -> [String] {
        guard values.count <= maxItems else { throw APIError.validation("\(field) may hold at most \(maxItems) items", field: field) }
        var seen = Set<String>()
        var result: [String] = []
        for (index, raw) in values.enumerated() {
            let item = try optionalText(raw, "\(field)[\(index)]", max: maxLength)
            guard !item.isEmpty else { throw APIError.validation("\(field)[\(index)] must not be empty", field: field) }
            if seen.insert(item).inserted { result.append(item) }
        }
        return result
    }
}

import Foundation

import Foundation

/// Builds a service's OpenAPI document: the platform's paths and schemas (shared by all services) with the
/// service's own paths and schemas spliced in. Both parts are hand-written YAML.
public enum OpenAPIDocument {
    /// - Parameters:
    ///   - paths: YAML lines indented two spaces (`  /api/v1/alerts:`), or empty.
    ///   - schemas: YAML lines indented four spaces (`    Alert:`), or empty.
    ///   - tags: YAML lines indented two spaces (`  - name: alerts`), or empty.
    public static func compose(title: String, description: String, paths: String, schemas: String, tags: String = "",
                               responses: String = "") -> String {
        guard let url = Bundle.module.url(forResource: "OpenAPI/platform", withExtension: "yaml"),
              let template = try? String(contentsOf: url, encoding: .utf8) else { return "" }
        let indentedDescription = description.split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    \($0)" }.joined(separator: "\n")
        return template
            .replacingOccurrences(of: "{{TITLE}}", with: title)
            .replacingOccurrences(of: "{{VERSION}}", with: OwlVersion.current)
            .replacingOccurrences(of: "{{DESCRIPTION}}", with: indentedDescription)
            .replacingOccurrences(of: "{{TAGS}}\n", with: tags.isEmpty ? "" : tags.trimmingTrailingNewlines + "\n")
            .replacingOccurrences(of: "{{PATHS}}\n", with: paths.isEmpty ? "" : paths.trimmingTrailingNewlines + "\n")
            .replacingOccurrences(of: "{{SCHEMAS}}\n", with: schemas.isEmpty ? "" : schemas.trimmingTrailingNewlines + "\n")
            .replacingOccurrences(of: "{{RESPONSES}}\n", with: responses.isEmpty ? "" : responses.trimmingTrailingNewlines + "\n")
    }

    /// Every `(METHOD, path)` pair of a document, read from its `paths:` block. Used by the coverage tests;
    /// it relies on this project's layout (paths at two spaces, methods at four).
    public static func operations(in document: String) -> Set<String> {
        var operations = Set<String>()
        var inPaths = false
        var currentPath: String?
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if !line.hasPrefix(" ") && !line.isEmpty {
                inPaths = line == "paths:"
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast(line.hasSuffix(":") ? 1 : 0))
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let path = currentPath {
                let key = line.dropFirst(4).split(separator: ":").first.map(String.init) ?? ""
                if methods.contains(key) { operations.insert("\(key.uppercased()) \(path)") }
            }
        }
        return operations
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var copy = self
        while copy.hasSuffix("\n") { copy.removeLast() }
        return copy
    }
}

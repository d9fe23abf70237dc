import Hummingbird

/// The routes as registered, for what runs before them: the docs page (which lists them, itself included) and the
/// error middleware (which answers 405 for a known path asked with another method).
public final class RouteList: @unchecked Sendable {
    // Written once during composition, before the server starts; read-only afterwards.
    var value: [RouteDescriptor] = []

    /// The methods of the route the router resolves a concrete path to, in registration order, and HEAD where GET
    /// is, as Hummingbird serves it. Like the router, a literal segment wins over a parameter.
    func methods(matching path: String) -> [String] {
        var best: [Int] = []
        var methods: [String] = []
        for route in value {
            guard let rank = RoutePattern.specificity(route.path, path) else { continue }
            if rank.lexicographicallyPrecedes(best) { continue }
            if best.lexicographicallyPrecedes(rank) { best = rank; methods = [] }
            if !methods.contains(route.method.rawValue) { methods.append(route.method.rawValue) }
        }
        if methods.contains("GET"), !methods.contains("HEAD") { methods.append("HEAD") }
        return methods
    }
}

/// Hummingbird's path syntax, enough to tell whether a concrete path is one a route serves: `:name` and `{name}`
/// match one segment, `*` any one segment, `**` the rest.
enum RoutePattern {
    /// nil when the pattern does not match the path; otherwise one rank per segment (2 literal, 1 parameter,
    /// 0 the `**` tail), compared lexicographically to find the route the router prefers.
    static func specificity(_ pattern: String, _ path: String) -> [Int]? {
        let patternParts = pattern.split(separator: "/", omittingEmptySubsequences: true)
        let pathParts = path.split(separator: "/", omittingEmptySubsequences: true)
        var rank: [Int] = []
        for (index, part) in patternParts.enumerated() {
            if part == "**" { return rank + [0] }
            guard index < pathParts.count else { return nil }
            if part == "*" || part.hasPrefix(":") || (part.hasPrefix("{") && part.hasSuffix("}")) {
                rank.append(1)
            } else if part.contains("{"), let close = part.lastIndex(of: "}") {
                // A parameter with a fixed suffix (`{name}.ics`).
                guard pathParts[index].hasSuffix(part[part.index(after: close)...]) else { return nil }
                rank.append(1)
            } else {
                guard part == pathParts[index] else { return nil }
                rank.append(2)
            }
        }
        return patternParts.count == pathParts.count ? rank : nil
    }
}

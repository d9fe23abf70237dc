import Foundation
import Mustache
import OwlCore

/// Renders every template with an attacker's text in every value, and reads every template's source: no template may
/// insert a value unescaped, and no payload may come out as markup.
public enum TemplateSafety {
    /// Tags, both quotes, and a quote followed by a combining mark (one Character to Swift, which a Character-wise
    /// escape lets through and which ends an attribute all the same).
    public static let payload = #"<script>alert("x")</script><img src=x onerror='alert(1)'>"# + "\"\u{301} autofocus onfocus=alert(2) x=\"\u{301}"

    /// Answers every name with itself, so that each variable prints the payload, each section opens once, and dotted
    /// names (`firstFired.iso`) reach the payload too.
    /// A name ending in `HTML` answers with the payload made into Markdown's HTML: the only value such a name may hold.
    struct Hostile: MustacheParent, CustomStringConvertible {
        func child(named: String) -> Any? { named.hasSuffix("HTML") ? Markdown.trusted(TemplateSafety.payload) : self }
        var description: String { TemplateSafety.payload }
    }

    /// What is wrong with `pages`: templates that use `{{&…}}` or `{{{…}}}` other than for a name ending in `HTML`
    /// (which holds `TrustedHTML`), and renders in which the payload survived.
    public static func violations(_ pages: WebPages) -> [String] {
        var problems: [String] = []
        for (name, source) in pages.sources.sorted(by: { $0.key < $1.key }) {
            let trusted = source.replacingOccurrences(of: #"\{\{\{[A-Za-z.]*HTML\}\}\}"#, with: "", options: .regularExpression)
            if trusted.contains("{{{") || source.range(of: #"\{\{\s*&"#, options: .regularExpression) != nil {
                problems.append("\(name): inserts a value unescaped")
            }
            guard let html = pages.render(name, object: Hostile()) else {
                problems.append("\(name): does not render")
                continue
            }
            if html.contains("<script>alert") || html.contains("<img src=x") || html.contains("onerror='alert") || html.contains("\"\u{301}") {
                problems.append("\(name): the payload came out as markup")
            }
            if !html.contains("&lt;script&gt;") { problems.append("\(name): the payload is not shown at all") }
        }
        return problems
    }
}


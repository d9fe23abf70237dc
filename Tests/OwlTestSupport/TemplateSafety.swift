import Foundation
import Mustache
import OwlCore

/// Renders every template with an attacker's text in every value, and reads every template's source: no template may
/// insert a value unescaped, and no payload may come out as markup.
public enum TemplateSafety {
    public static let payload = #"<script>alert("x")</script><img src=x onerror='alert(1)'>"#

    /// Answers every name with itself, so that each variable prints the payload, each section opens once, and dotted
    /// names (`firstFired.iso`) reach the payload too.
    struct Hostile: MustacheParent, CustomStringConvertible {
        func child(named: String) -> Any? { self }
        var description: String { TemplateSafety.payload }
    }

    /// What is wrong with `pages`: templates that use `{{{…}}}` or `{{&…}}`, and renders in which the payload survived.
    public static func violations(_ pages: WebPages) -> [String] {
        var problems: [String] = []
        for (name, source) in pages.sources.sorted(by: { $0.key < $1.key }) {
            if source.contains("{{{") || source.range(of: #"\{\{\s*&"#, options: .regularExpression) != nil {
                problems.append("\(name): inserts a value unescaped")
            }
            guard let html = pages.render(name, object: Hostile()) else {
                problems.append("\(name): does not render")
                continue
            }
            if html.contains("<script>alert") || html.contains("<img src=x") || html.contains("onerror='alert") {
                problems.append("\(name): the payload came out as markup")
            }
            if !html.contains("&lt;script&gt;") { problems.append("\(name): the payload is not shown at all") }
        }
        return problems
    }
}


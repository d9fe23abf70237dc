import Foundation

/// Markdown to HTML that is safe to put in a page, shared by every console (knowledge-base solutions, runbooks,
/// documents). It covers CommonMark's everyday parts (headings, paragraphs, emphasis, code, quotes, lists, rules,
/// links, images) and GitHub's tables, task lists, strikethrough and bare links.
///
/// The source is written by users and by webhooks, so the output never carries the source's markup: raw HTML is shown
/// as text, links keep only `http`, `https`, `mailto` and relative addresses, images only the site's own (`/...`; the
/// pages' content security policy would block others anyway, so they become links), and every attribute is escaped.
public enum Markdown {
    /// Longer sources are cut here; a runbook or a post-mortem is far shorter.
    public static let maxInput = 1_000_000
    /// Quotes and lists nested deeper than this are shown as plain paragraphs.
    static let maxDepth = 12

    /// The HTML of `source`. `headingOffset` moves heading levels down, so that a `#` inside a page's `<h2>` section
    /// becomes an `<h3>` (levels stop at 6).
    public static func html(_ source: String, headingOffset: Int = 0) -> String {
        let blocks = MarkdownBlockParser.parse(MarkdownBlockParser.lines(String(source.prefix(maxInput))), depth: 0)
        var renderer = MarkdownHTMLRenderer(headingOffset: max(0, min(headingOffset, 5)))
        renderer.render(blocks)
        return renderer.output
    }

    /// The headings of `source` (level, text, anchor), for a table of contents; anchors match those `html` writes.
    public static func headings(_ source: String) -> [(level: Int, text: String, anchor: String)] {
        var slugs = MarkdownSlugs()
        var found: [(level: Int, text: String, anchor: String)] = []
        // In the renderer's order, quotes and list items included, so that each anchor is the one `html` writes.
        func walk(_ blocks: [MarkdownBlock]) {
            for block in blocks {
                switch block {
                case .heading(let level, let text):
                    let plain = MarkdownInline.plainText(text)
                    found.append((level, plain, slugs.anchor(for: plain)))
                case .quote(let inner): walk(inner)
                case .list(_, _, _, let items): items.forEach { walk($0.blocks) }
                default: break
                }
            }
        }
        walk(MarkdownBlockParser.parse(MarkdownBlockParser.lines(String(source.prefix(maxInput))), depth: 0))
        return found
    }

    /// Escapes text for an HTML element's content or a quoted attribute (scalar by scalar: see `HTML.escape`).
    public static func escape(_ text: some StringProtocol) -> String { HTML.escape(String(text)) }

    /// What an address may be used for: a link, an image, or nothing (shown as text).
    enum AddressUse { case link, image }

    /// `nil` when the address may not be used: a scheme other than http, https or mailto (`javascript:`, `data:`,
    /// `vbscript:` and their disguises with control characters or entities), or, for an image, anything but the site's
    /// own paths.
    static func safeAddress(_ raw: String, for use: AddressUse) -> String? {
        let address = raw.trimmingCharacters(in: .whitespaces)
        guard !address.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" && use == .image }) else { return nil }
        if use == .image {
            // Only the site's own paths ("/x" but not "//host/x"), and not its streams or API (an image of `/events`
            // would hold a connection open for as long as the page is shown).
            let path = address.lowercased()
            guard path.hasPrefix("/"), !path.hasPrefix("//"), !["/events", "/api/", "/auth/"].contains(where: { path.hasPrefix($0) }) else { return nil }
            return address
        }
        // A scheme is letters, digits, "+", "-", "." before the first ":" that comes before any "/", "?" or "#".
        let head = address.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let colon = head.firstIndex(of: ":") else { return address }
        let scheme = head[..<colon].lowercased()
        return ["http", "https", "mailto"].contains(scheme) ? address : nil
    }
}

/// Anchors for headings: lower-case words joined by "-", prefixed so that they never collide with the page's own ids,
/// and numbered when a heading repeats.
struct MarkdownSlugs {
    private var seen: [String: Int] = [:]

    mutating func anchor(for text: String) -> String {
        var slug = ""
        var dash = false
        for scalar in text.lowercased().unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                if dash && !slug.isEmpty { slug += "-" }
                slug.unicodeScalars.append(scalar)
                dash = false
            } else {
                dash = true
            }
            if slug.count >= 80 { break }
        }
        let base = "section-" + (slug.isEmpty ? "untitled" : slug)
        let count = seen[base, default: 0]
        seen[base] = count + 1
        return count == 0 ? base : "\(base)-\(count + 1)"
    }
}

/// HTML made by OwlCore itself (`Markdown.html`, `ConsoleChart`), the one kind of value a template may insert unescaped
/// (`{{{solutionHTML}}}`, under a name that ends in `HTML`). No other module can make one, so a template never inserts
/// a raw string.
public struct TrustedHTML: CustomStringConvertible, Sendable, Equatable {
    public let description: String
    init(_ html: String) { description = html }
}

extension Markdown {
    /// `source` rendered, for a template.
    public static func trusted(_ source: String, headingOffset: Int = 0) -> TrustedHTML {
        TrustedHTML(html(source, headingOffset: headingOffset))
    }
}

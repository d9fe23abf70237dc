import Foundation

/// Inline Markdown of one block (emphasis, strikethrough, code spans, links, images, autolinks, bare links, hard line
/// breaks) to HTML. Every character of the source reaches the output escaped; tags come only from here.
///
/// Searches for closing delimiters remember where they failed, and brackets are paired once, so that hostile input (a
/// paragraph of ten thousand `*a`) costs linear time, not quadratic.
struct MarkdownInline {
    private let chars: [Character]
    private let brackets: [Int: Int]
    private var failedClosers: [String: Int] = [:]
    private var failedTicks: [String: Int] = [:]
    static let maxDepth = 20

    init(_ text: String) {
        chars = Array(text)
        var open: [Int] = []
        var pairs: [Int: Int] = [:]
        var index = 0
        while index < chars.count {
            switch chars[index] {
            case "\\": index += 1
            case "[": open.append(index)
            case "]": if let start = open.popLast() { pairs[start] = index }
            default: break
            }
            index += 1
        }
        brackets = pairs
    }

    static func html(_ text: String) -> String {
        var parser = MarkdownInline(text)
        return parser.render(0..<parser.chars.count, depth: 0, inLink: false)
    }

    /// The text a reader sees, without markup (for anchors).
    static func plainText(_ text: String) -> String { stripTags(html(text)) }

    /// Rendered inline HTML as the text it shows: tags dropped (text's own `<` is escaped, so every `<` starts one of
    /// ours), escapes undone.
    static func stripTags(_ html: String) -> String {
        var plain = ""
        var inTag = false
        for scalar in html.unicodeScalars {
            if scalar == "<" { inTag = true } else if scalar == ">" && inTag { inTag = false } else if !inTag { plain.unicodeScalars.append(scalar) }
        }
        return HTML.unescape(plain)
    }

    mutating func render(_ range: Range<Int>, depth: Int, inLink: Bool) -> String {
        if depth > Self.maxDepth { return Markdown.escape(String(chars[range])) }
        var out = ""
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            let character = chars[index]
            switch character {
            case "\\":
                if index + 1 < end, chars[index + 1] == "\n" {
                    out += "<br>\n"; index += 2
                } else if index + 1 < end, chars[index + 1].isASCII, chars[index + 1].isPunctuation || chars[index + 1].isSymbol {
                    out += Markdown.escape(String(chars[index + 1])); index += 2
                } else {
                    out += "\\"; index += 1
                }
            case "`":
                let count = run(at: index, end: end)
                if let close = closingTicks(from: index + count, length: count, end: end) {
                    var code = String(chars[(index + count)..<close]).replacingOccurrences(of: "\n", with: " ")
                    if code.count >= 2, code.first == " ", code.last == " ", code.contains(where: { $0 != " " }) {
                        code = String(code.dropFirst().dropLast())
                    }
                    out += "<code>" + Markdown.escape(code) + "</code>"
                    index = close + count
                } else {
                    out += String(repeating: "`", count: count); index += count
                }
            case "!" where index + 1 < end && chars[index + 1] == "[":
                if let (html, next) = link(at: index + 1, end: end, image: true, depth: depth, inLink: inLink) {
                    out += html; index = next
                } else {
                    out += "!"; index += 1
                }
            case "[":
                if !inLink, let (html, next) = link(at: index, end: end, image: false, depth: depth, inLink: inLink) {
                    out += html; index = next
                } else {
                    out += "["; index += 1
                }
            case "<":
                if let (html, next) = autolink(at: index, end: end, inLink: inLink) {
                    out += html; index = next
                } else {
                    out += "&lt;"; index += 1
                }
            case "*", "_", "~":
                if let (html, next) = emphasis(at: index, end: end, depth: depth, inLink: inLink) {
                    out += html; index = next
                } else {
                    let count = run(at: index, end: end)
                    out += String(repeating: character, count: count); index += count
                }
            case "\n":
                let hard = out.hasSuffix("  ")
                while out.last == " " { out.removeLast() }
                out += hard ? "<br>\n" : "\n"
                index += 1
            case "&":
                let entity = entityLength(at: index, end: end)
                if entity > 0 {
                    out += String(chars[index..<(index + entity)]); index += entity
                } else {
                    out += "&amp;"; index += 1
                }
            case "h", "w":
                if !inLink, let (html, next) = bareLink(at: index, end: end) {
                    out += html; index = next
                } else {
                    out.append(character); index += 1
                }
            case ">": out += "&gt;"; index += 1
            case "\"": out += "&quot;"; index += 1
            case "'": out += "&#39;"; index += 1
            default:
                // A quote or bracket with a combining mark is one Character: escape it scalar by scalar.
                if character.isASCII { out.append(character) } else { out += HTML.escape(String(character)) }
                index += 1
            }
        }
        return out
    }

    // MARK: Code spans

    private func run(at index: Int, end: Int) -> Int {
        var count = 0
        while index + count < end, chars[index + count] == chars[index] { count += 1 }
        return count
    }

    /// The start of the next run of exactly `length` backticks.
    private mutating func closingTicks(from start: Int, length: Int, end: Int) -> Int? {
        let key = "\(length)|\(end)"
        if let failed = failedTicks[key], start >= failed { return nil }
        var index = start
        while index < end {
            if chars[index] == "`" {
                let count = run(at: index, end: end)
                if count == length { return index }
                index += count
            } else {
                index += 1
            }
        }
        failedTicks[key] = min(failedTicks[key] ?? start, start)
        return nil
    }

    // MARK: Emphasis

    private func isPunctuation(_ character: Character?) -> Bool {
        guard let character else { return false }
        return character.isPunctuation || character.isSymbol
    }

    private func isSpace(_ character: Character?) -> Bool { character.map { $0.isWhitespace } ?? true }

    /// CommonMark's left- and right-flanking delimiter runs.
    private func flanking(at index: Int, count: Int, end: Int) -> (left: Bool, right: Bool) {
        let before: Character? = index > 0 ? chars[index - 1] : nil
        let after: Character? = index + count < end ? chars[index + count] : nil
        let left = !isSpace(after) && (!isPunctuation(after) || isSpace(before) || isPunctuation(before))
        let right = !isSpace(before) && (!isPunctuation(before) || isSpace(after) || isPunctuation(after))
        return (left, right)
    }

    private func canOpen(at index: Int, count: Int, end: Int) -> Bool {
        let (left, right) = flanking(at: index, count: count, end: end)
        guard chars[index] == "_" else { return left }
        return left && (!right || isPunctuation(index > 0 ? chars[index - 1] : nil))
    }

    private func canClose(at index: Int, count: Int, end: Int) -> Bool {
        let (left, right) = flanking(at: index, count: count, end: end)
        guard chars[index] == "_" else { return right }
        return right && (!left || isPunctuation(index + count < end ? chars[index + count] : nil))
    }

    private mutating func emphasis(at index: Int, end: Int, depth: Int, inLink: Bool) -> (String, Int)? {
        let delimiter = chars[index]
        let count = run(at: index, end: end)
        if delimiter == "~" && count != 2 { return nil }
        guard canOpen(at: index, count: count, end: end), let (close, closeCount) = closer(delimiter, from: index + count, end: end) else { return nil }
        let used = delimiter == "~" ? 2 : min(count, closeCount, 3)
        let (open, shut): (String, String) = switch (delimiter, used) {
        case ("~", _): ("<del>", "</del>")
        case (_, 1): ("<em>", "</em>")
        case (_, 2): ("<strong>", "</strong>")
        default: ("<em><strong>", "</strong></em>")
        }
        let inner = render((index + count)..<close, depth: depth + 1, inLink: inLink)
        let html = String(repeating: delimiter, count: count - used) + open + inner + shut + String(repeating: delimiter, count: closeCount - used)
        return (html, close + closeCount)
    }

    private mutating func closer(_ delimiter: Character, from start: Int, end: Int) -> (Int, Int)? {
        let key = "\(delimiter)|\(end)"
        if let failed = failedClosers[key], start >= failed { return nil }
        var index = start
        while index < end {
            let character = chars[index]
            if character == "\\" {
                index += 2
            } else if character == "`" {
                let count = run(at: index, end: end)
                if let close = closingTicks(from: index + count, length: count, end: end) { index = close + count } else { index += count }
            } else if character == delimiter {
                let count = run(at: index, end: end)
                if canClose(at: index, count: count, end: end) && (delimiter != "~" || count == 2) { return (index, count) }
                index += count
            } else {
                index += 1
            }
        }
        failedClosers[key] = min(failedClosers[key] ?? start, start)
        return nil
    }

    // MARK: Links

    private mutating func link(at open: Int, end: Int, image: Bool, depth: Int, inLink: Bool) -> (String, Int)? {
        guard let close = brackets[open], close < end, close + 1 < end, chars[close + 1] == "(" else { return nil }
        var index = close + 2
        skipSpaces(&index, end)
        var destination = ""
        if index < end && chars[index] == "<" {
            index += 1
            while index < end, chars[index] != ">" {
                if chars[index] == "\n" || chars[index] == "<" { return nil }
                destination.append(chars[index]); index += 1
            }
            guard index < end else { return nil }
            index += 1
        } else {
            var parentheses = 0
            while index < end, !chars[index].isWhitespace {
                let character = chars[index]
                if character == "\\", index + 1 < end, chars[index + 1].isPunctuation || chars[index + 1].isSymbol {
                    destination.append(chars[index + 1]); index += 2; continue
                }
                if character == "(" {
                    parentheses += 1
                    // As cmark: deeper nesting is not a destination (and a scan cannot run on through "[](" repeated).
                    if parentheses > 32 { return nil }
                }
                if character == ")" { if parentheses == 0 { break }; parentheses -= 1 }
                destination.append(character); index += 1
            }
        }
        skipSpaces(&index, end)
        var title: String?
        if index < end, let closing: Character = ["\"": "\"", "'": "'", "(": ")"][chars[index]] {
            var text = ""
            index += 1
            let key = "title\(closing)|\(end)"
            if let failed = failedClosers[key], index >= failed { return nil }
            let start = index
            while index < end, chars[index] != closing {
                if chars[index] == "\\", index + 1 < end { index += 1 }
                text.append(chars[index]); index += 1
            }
            guard index < end else {
                // No closing mark after `start`: none after any later start either.
                failedClosers[key] = min(failedClosers[key] ?? start, start)
                return nil
            }
            index += 1
            title = text
            skipSpaces(&index, end)
        }
        guard index < end, chars[index] == ")" else { return nil }
        let next = index + 1
        let titleAttribute = title.map { " title=\"\(Markdown.escape($0))\"" } ?? ""
        if image {
            // The description is the label's text, read by this parser one level deeper (never a fresh parse, which
            // would reset the depth limit for images nested in images).
            let description = Self.stripTags(render((open + 1)..<close, depth: depth + 1, inLink: true))
            if let source = Markdown.safeAddress(destination, for: .image) {
                return ("<img src=\"\(Markdown.escape(source))\" alt=\"\(Markdown.escape(description))\"\(titleAttribute) loading=\"lazy\">", next)
            }
            guard !inLink, let href = Markdown.safeAddress(destination, for: .link) else { return (Markdown.escape(description), next) }
            let label = description.isEmpty ? href : description
            return ("<a href=\"\(Markdown.escape(href))\"\(titleAttribute)\(Self.rel(href))>\(Markdown.escape(label))</a>", next)
        }
        let label = render((open + 1)..<close, depth: depth + 1, inLink: true)
        guard let href = Markdown.safeAddress(destination, for: .link) else { return (label, next) }
        return ("<a href=\"\(Markdown.escape(href))\"\(titleAttribute)\(Self.rel(href))>\(label)</a>", next)
    }

    private func skipSpaces(_ index: inout Int, _ end: Int) {
        while index < end, chars[index] == " " || chars[index] == "\n" { index += 1 }
    }

    /// Links that leave the site do not pass on the page's address or ranking.
    static func rel(_ href: String) -> String {
        let lower = href.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://") ? " rel=\"nofollow noopener noreferrer\"" : ""
    }

    /// `<https://example.com>` and `<someone@example.com>`.
    private func autolink(at index: Int, end: Int, inLink: Bool) -> (String, Int)? {
        var close = index + 1
        while close < end, chars[close] != ">" {
            if chars[close].isWhitespace || chars[close] == "<" { return nil }
            close += 1
        }
        guard close < end, close > index + 1 else { return nil }
        let text = String(chars[(index + 1)..<close])
        let isEmail = !text.contains(":") && text.contains("@") && text.split(separator: "@").count == 2
        guard isEmail || text.contains(":") else { return nil }
        guard let href = Markdown.safeAddress(isEmail ? "mailto:" + text : text, for: .link), href.contains(":") else { return nil }
        if inLink { return (Markdown.escape(text), close + 1) }
        return ("<a href=\"\(Markdown.escape(href))\"\(Self.rel(href))>\(Markdown.escape(text))</a>", close + 1)
    }

    /// GitHub's bare links: `https://…`, `http://…` and `www.…` after a space, a line start or an opening bracket.
    private func bareLink(at index: Int, end: Int) -> (String, Int)? {
        if index > 0, !(chars[index - 1].isWhitespace || "(*_~".contains(chars[index - 1])) { return nil }
        let prefixes = ["https://", "http://", "www."]
        guard let prefix = prefixes.first(where: { starts(with: $0, at: index, end: end) }) else { return nil }
        var close = index
        while close < end, !chars[close].isWhitespace, chars[close] != "<" { close += 1 }
        // Trailing punctuation ends the sentence, not the address; so does a ")" without its "(".
        var unbalanced = chars[index..<close].reduce(0) { $0 + ($1 == ")" ? 1 : $1 == "(" ? -1 : 0) }
        while close > index {
            let last = chars[close - 1]
            if "?!.,:*_~'\"".contains(last) {
                close -= 1
            } else if last == ")" && unbalanced > 0 {
                close -= 1
                unbalanced -= 1
            } else {
                break
            }
        }
        let text = String(chars[index..<close])
        guard text.count > prefix.count, prefix != "www." || text.dropFirst(4).contains(".") else { return nil }
        let href = prefix == "www." ? "http://" + text : text
        guard let safe = Markdown.safeAddress(href, for: .link) else { return nil }
        return ("<a href=\"\(Markdown.escape(safe))\"\(Self.rel(safe))>\(Markdown.escape(text))</a>", close)
    }

    private func starts(with prefix: String, at index: Int, end: Int) -> Bool {
        var position = index
        for character in prefix {
            guard position < end, chars[position].lowercased() == String(character) else { return false }
            position += 1
        }
        return true
    }

    /// The length of an entity reference at `index` (`&amp;`, `&#123;`, `&#x1F600;`), or 0. They pass through: an entity
    /// is text to the browser, never markup.
    private func entityLength(at index: Int, end: Int) -> Int {
        var position = index + 1
        var body = ""
        while position < end, position - index <= 33, chars[position] != ";" {
            body.append(chars[position]); position += 1
        }
        guard position < end, chars[position] == ";", !body.isEmpty else { return 0 }
        let valid: Bool
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            valid = (1...6).contains(body.count - 2) && body.dropFirst(2).allSatisfy(\.isHexDigit)
        } else if body.hasPrefix("#") {
            valid = (1...7).contains(body.count - 1) && body.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
        } else {
            valid = body.count >= 2 && body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } && body.first?.isLetter == true
        }
        return valid ? body.count + 2 : 0
    }
}

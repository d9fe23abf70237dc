import Foundation

/// A block of a Markdown document; inline text is kept as source and rendered by `MarkdownInline`.
indirect enum MarkdownBlock: Equatable {
    case heading(level: Int, text: String)
    case paragraph(String)
    case code(language: String, text: String)
    case quote([MarkdownBlock])
    case list(ordered: Bool, start: Int, tight: Bool, items: [MarkdownListItem])
    case rule
    case table(alignments: [MarkdownAlignment], header: [String], rows: [[String]])
}

struct MarkdownListItem: Equatable {
    /// `nil` for a plain item, `true`/`false` for a checked/unchecked task.
    var task: Bool?
    var blocks: [MarkdownBlock]
}

enum MarkdownAlignment: Equatable { case none, left, center, right }

/// Splits a document into blocks, line by line, as CommonMark describes (without raw HTML blocks and link reference
/// definitions).
enum MarkdownBlockParser {
    /// Lines with tabs expanded to four-column stops and line endings normalised.
    static func lines(_ source: String) -> [Substring] {
        let normalised = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        return normalised.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.contains("\t") else { return line }
            var expanded = ""
            var column = 0
            for character in line {
                if character == "\t" {
                    let width = 4 - column % 4
                    expanded += String(repeating: " ", count: width)
                    column += width
                } else {
                    expanded.append(character)
                    column += 1
                }
            }
            return Substring(expanded)
        }
    }

    static func parse(_ lines: [Substring], depth: Int) -> [MarkdownBlock] {
        if depth > Markdown.maxDepth {
            let text = lines.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "\n")
            return text.isEmpty ? [] : [.paragraph(text)]
        }
        var blocks: [MarkdownBlock] = []
        var paragraph: [Substring] = []
        func flush() {
            guard !paragraph.isEmpty else { return }
            // Leading spaces go; trailing ones stay until the last line, as two of them make a hard line break.
            let text = paragraph.map { $0.drop { $0 == " " } }.joined(separator: "\n")
            blocks.append(.paragraph(String(text.reversed().drop { $0 == " " }.reversed())))
            paragraph = []
        }
        var index = 0
        while index < lines.count {
            let line = lines[index]
            if isBlank(line) { flush(); index += 1; continue }
            let indent = leadingSpaces(line)
            if indent >= 4 {
                if paragraph.isEmpty {
                    blocks.append(indentedCode(lines, &index))
                } else {
                    paragraph.append(line); index += 1
                }
                continue
            }
            let text = line.dropFirst(indent)
            if let fence = fenceOpening(text) {
                flush()
                blocks.append(fencedCode(lines, &index, fence: fence, indent: indent))
                continue
            }
            if let (level, title) = atxHeading(text) {
                flush()
                blocks.append(.heading(level: level, text: title))
                index += 1
                continue
            }
            if !paragraph.isEmpty, let level = setextLevel(text) {
                let title = paragraph.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
                paragraph = []
                blocks.append(.heading(level: level, text: title))
                index += 1
                continue
            }
            if isRule(text) { flush(); blocks.append(.rule); index += 1; continue }
            if text.hasPrefix(">") {
                flush()
                blocks.append(quote(lines, &index, depth: depth))
                continue
            }
            if let marker = listMarker(line), paragraph.isEmpty || marker.canInterruptParagraph {
                flush()
                blocks.append(list(lines, &index, first: marker, depth: depth))
                continue
            }
            if let table = table(lines, &index) {
                flush()
                blocks.append(table)
                continue
            }
            paragraph.append(line)
            index += 1
        }
        flush()
        return blocks
    }

    // MARK: Code

    static func indentedCode(_ lines: [Substring], _ index: inout Int) -> MarkdownBlock {
        var body: [Substring] = []
        while index < lines.count, isBlank(lines[index]) || leadingSpaces(lines[index]) >= 4 {
            body.append(lines[index].dropFirst(min(4, leadingSpaces(lines[index]))))
            index += 1
        }
        while let last = body.last, isBlank(last) { body.removeLast() }
        return .code(language: "", text: body.joined(separator: "\n"))
    }

    struct Fence { var character: Character; var length: Int; var language: String }

    static func fenceOpening(_ text: Substring) -> Fence? {
        guard let first = text.first, first == "`" || first == "~" else { return nil }
        let run = text.prefix { $0 == first }.count
        guard run >= 3 else { return nil }
        let info = text.dropFirst(run).trimmingCharacters(in: .whitespaces)
        if first == "`" && info.contains("`") { return nil }
        let language = String(info.prefix { !$0.isWhitespace }.filter { $0.isLetter || $0.isNumber || "+-_#.".contains($0) }.prefix(40))
        return Fence(character: first, length: run, language: language)
    }

    static func fencedCode(_ lines: [Substring], _ index: inout Int, fence: Fence, indent: Int) -> MarkdownBlock {
        var body: [Substring] = []
        index += 1
        while index < lines.count {
            let line = lines[index]
            let spaces = leadingSpaces(line)
            let text = line.dropFirst(spaces)
            index += 1
            if spaces < 4, text.prefix(while: { $0 == fence.character }).count >= fence.length,
               text.drop(while: { $0 == fence.character }).allSatisfy(\.isWhitespace) {
                return .code(language: fence.language, text: body.joined(separator: "\n"))
            }
            body.append(line.dropFirst(min(spaces, indent)))
        }
        return .code(language: fence.language, text: body.joined(separator: "\n"))
    }

    // MARK: Headings and rules

    static func atxHeading(_ text: Substring) -> (Int, String)? {
        let level = text.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let rest = text.dropFirst(level)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var title = rest.trimmingCharacters(in: .whitespaces)
        // A closing run of "#" preceded by a space (or alone) is not part of the title.
        let trailing = title.reversed().prefix { $0 == "#" }.count
        if trailing > 0 {
            let kept = title.dropLast(trailing)
            if kept.isEmpty || kept.last == " " { title = kept.trimmingCharacters(in: .whitespaces) }
        }
        return (level, title)
    }

    static func setextLevel(_ text: Substring) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let first = trimmed.first, first == "=" || first == "-", trimmed.allSatisfy({ $0 == first }) else { return nil }
        return first == "=" ? 1 : 2
    }

    static func isRule(_ text: Substring) -> Bool {
        guard let first = text.first, "-*_".contains(first) else { return false }
        var count = 0
        for character in text {
            if character == first { count += 1 } else if character != " " { return false }
        }
        return count >= 3
    }

    // MARK: Quotes

    static func quote(_ lines: [Substring], _ index: inout Int, depth: Int) -> MarkdownBlock {
        var body: [Substring] = []
        while index < lines.count {
            let line = lines[index]
            let indent = leadingSpaces(line)
            let text = line.dropFirst(indent)
            if indent < 4 && text.hasPrefix(">") {
                var rest = text.dropFirst()
                if rest.first == " " { rest = rest.dropFirst() }
                body.append(rest)
            } else if !isBlank(line), let last = body.last, !isBlank(last), !startsBlock(line) {
                body.append(line) // lazy continuation of the quoted paragraph
            } else {
                break
            }
            index += 1
        }
        return .quote(parse(body, depth: depth + 1))
    }

    // MARK: Lists

    struct ListMarker {
        var ordered: Bool
        var character: Character
        var number: Int
        var contentOffset: Int
        var content: Substring
        var canInterruptParagraph: Bool
    }

    static func listMarker(_ line: Substring) -> ListMarker? {
        let indent = leadingSpaces(line)
        guard indent < 4 else { return nil }
        let text = line.dropFirst(indent)
        guard let first = text.first else { return nil }
        var ordered = false
        var number = 1
        var markerWidth = 1
        var character = first
        if "-+*".contains(first) {
            if isRule(text) { return nil }
        } else if first.isASCII && first.isNumber {
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard digits.count <= 9, let after = text.dropFirst(digits.count).first, after == "." || after == ")" else { return nil }
            ordered = true
            number = Int(digits) ?? 1
            markerWidth = digits.count + 1
            character = after
        } else {
            return nil
        }
        let rest = text.dropFirst(markerWidth)
        if rest.isEmpty {
            return ListMarker(ordered: ordered, character: character, number: number, contentOffset: indent + markerWidth + 1,
                              content: rest, canInterruptParagraph: false)
        }
        guard rest.first == " " else { return nil }
        var spaces = rest.prefix { $0 == " " }.count
        if spaces > 4 { spaces = 1 }
        let content = rest.dropFirst(spaces)
        return ListMarker(ordered: ordered, character: character, number: number, contentOffset: indent + markerWidth + spaces,
                          content: content, canInterruptParagraph: !isBlank(content) && (!ordered || number == 1))
    }

    static func list(_ lines: [Substring], _ index: inout Int, first: ListMarker, depth: Int) -> MarkdownBlock {
        var items: [MarkdownListItem] = []
        var loose = false
        var marker: ListMarker? = first
        while let current = marker {
            var body: [Substring] = [current.content]
            index += 1
            var sawBlank = false
            marker = nil
            while index < lines.count {
                let line = lines[index]
                if isBlank(line) {
                    sawBlank = true
                    body.append("")
                    index += 1
                    continue
                }
                let indent = leadingSpaces(line)
                if indent >= current.contentOffset {
                    sawBlank = false
                    body.append(line.dropFirst(current.contentOffset))
                    index += 1
                    continue
                }
                if let next = listMarker(line), next.ordered == first.ordered, next.character == first.character {
                    if sawBlank { loose = true }
                    marker = next
                    break
                }
                if !sawBlank && !startsBlock(line) {
                    body.append(line) // lazy continuation
                    index += 1
                    continue
                }
                break
            }
            while let last = body.last, isBlank(last) { body.removeLast() }
            items.append(taskItem(body, depth: depth))
            if marker == nil { break }
        }
        // A blank line that separated blocks inside an item makes the list loose too.
        for item in items where item.blocks.count > 1 && loose == false {
            if item.blocks.dropFirst().contains(where: { if case .paragraph = $0 { return true } else { return false } }) { loose = true }
        }
        return .list(ordered: first.ordered, start: first.number, tight: !loose, items: items)
    }

    static func taskItem(_ body: [Substring], depth: Int) -> MarkdownListItem {
        var lines = body
        var task: Bool?
        if let head = lines.first {
            let box = head.prefix(4)
            if box == "[ ] " || box == "[x] " || box == "[X] " || (head.count == 3 && ["[ ]", "[x]", "[X]"].contains(String(head))) {
                task = head.dropFirst().first != " "
                lines[0] = head.dropFirst(min(4, head.count))
            }
        }
        return MarkdownListItem(task: task, blocks: parse(lines, depth: depth + 1))
    }

    // MARK: Tables

    static func table(_ lines: [Substring], _ index: inout Int) -> MarkdownBlock? {
        guard index + 1 < lines.count, lines[index].contains("|"),
              let alignments = delimiterRow(lines[index + 1]) else { return nil }
        let header = cells(lines[index])
        guard header.count == alignments.count else { return nil }
        var rows: [[String]] = []
        var row = index + 2
        while row < lines.count, !isBlank(lines[row]), !startsBlock(lines[row]) {
            var values = cells(lines[row])
            if values.count < header.count { values += Array(repeating: "", count: header.count - values.count) }
            rows.append(Array(values.prefix(header.count)))
            row += 1
        }
        index = row
        return .table(alignments: alignments, header: header, rows: rows)
    }

    static func delimiterRow(_ line: Substring) -> [MarkdownAlignment]? {
        guard line.contains("-"), leadingSpaces(line) < 4 else { return nil }
        let parts = cells(line)
        var alignments: [MarkdownAlignment] = []
        for part in parts {
            let left = part.hasPrefix(":"), right = part.hasSuffix(":")
            let dashes = part.dropFirst(left ? 1 : 0).dropLast(right && part.count > 1 ? 1 : 0)
            guard !dashes.isEmpty, dashes.allSatisfy({ $0 == "-" }) else { return nil }
            alignments.append(left && right ? .center : left ? .left : right ? .right : .none)
        }
        return alignments.isEmpty ? nil : alignments
    }

    /// A row's cells: split on "|" that is not escaped and not inside a code span; outer pipes are optional.
    static func cells(_ line: Substring) -> [String] {
        var text = line.trimmingCharacters(in: .whitespaces)[...]
        if text.hasPrefix("|") { text = text.dropFirst() }
        if text.hasSuffix("|") && !text.hasSuffix("\\|") { text = text.dropLast() }
        var cells: [String] = []
        var current = ""
        var inCode = false
        var escaped = false
        for character in text {
            if escaped {
                if character != "|" { current.append("\\") }
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "`" {
                inCode.toggle()
                current.append(character)
            } else if character == "|" && !inCode {
                cells.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        if escaped { current.append("\\") }
        cells.append(current.trimmingCharacters(in: .whitespaces))
        return cells
    }

    // MARK: Helpers

    static func isBlank(_ line: Substring) -> Bool { line.allSatisfy { $0 == " " } }

    static func leadingSpaces(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

    /// Whether a line begins a block that ends a paragraph (and so is not a lazy continuation).
    static func startsBlock(_ line: Substring) -> Bool {
        let indent = leadingSpaces(line)
        guard indent < 4 else { return false }
        let text = line.dropFirst(indent)
        return text.hasPrefix(">") || fenceOpening(text) != nil || atxHeading(text) != nil || isRule(text)
            || listMarker(line)?.canInterruptParagraph == true
    }
}

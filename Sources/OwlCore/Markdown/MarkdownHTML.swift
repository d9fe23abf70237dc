/// Writes parsed blocks as HTML. Code blocks carry their language as a class (letters, digits and `+-_#.` only); tables
/// sit in a scrolling wrapper so that a wide table never makes a phone's page scroll sideways; task boxes are labelled
/// images of a box, not form controls.
struct MarkdownHTMLRenderer {
    let headingOffset: Int
    private(set) var output = ""
    private var slugs = MarkdownSlugs()

    init(headingOffset: Int) { self.headingOffset = headingOffset }

    mutating func render(_ blocks: [MarkdownBlock], tight: Bool = false) {
        for block in blocks { render(block, tight: tight) }
    }

    private mutating func render(_ block: MarkdownBlock, tight: Bool) {
        switch block {
        case .heading(let level, let text):
            let shown = min(6, level + headingOffset)
            let anchor = slugs.anchor(for: MarkdownInline.plainText(text))
            output += "<h\(shown) id=\"\(anchor)\">\(MarkdownInline.html(text))</h\(shown)>\n"
        case .paragraph(let text):
            output += tight ? MarkdownInline.html(text) : "<p>\(MarkdownInline.html(text))</p>\n"
        case .code(let language, let text):
            let attribute = language.isEmpty ? "" : " class=\"language-\(Markdown.escape(language))\""
            output += "<pre><code\(attribute)>\(Markdown.escape(text))\(text.isEmpty ? "" : "\n")</code></pre>\n"
        case .quote(let blocks):
            output += "<blockquote>\n"
            render(blocks)
            output += "</blockquote>\n"
        case .list(let ordered, let start, let isTight, let items):
            let tag = ordered ? "ol" : "ul"
            output += ordered && start != 1 ? "<ol start=\"\(start)\">\n" : "<\(tag)>\n"
            for item in items {
                if let done = item.task {
                    output += "<li class=\"task\"><span class=\"task-box\" role=\"img\" aria-label=\"\(done ? "done" : "to do")\">\(done ? "☑" : "☐")</span> "
                } else {
                    output += "<li>"
                }
                render(item.blocks, tight: isTight)
                output += "</li>\n"
            }
            output += "</\(tag)>\n"
        case .rule:
            output += "<hr>\n"
        case .table(let alignments, let header, let rows):
            output += "<div class=\"table-wrap\"><table>\n<thead>\n<tr>"
            for (cell, alignment) in zip(header, alignments) { output += "<th\(Self.align(alignment))>\(MarkdownInline.html(cell))</th>" }
            output += "</tr>\n</thead>\n"
            if !rows.isEmpty {
                output += "<tbody>\n"
                for row in rows {
                    output += "<tr>"
                    for (cell, alignment) in zip(row, alignments) { output += "<td\(Self.align(alignment))>\(MarkdownInline.html(cell))</td>" }
                    output += "</tr>\n"
                }
                output += "</tbody>\n"
            }
            output += "</table></div>\n"
        }
    }

    static func align(_ alignment: MarkdownAlignment) -> String {
        switch alignment {
        case .none: ""
        case .left: " class=\"align-left\""
        case .center: " class=\"align-center\""
        case .right: " class=\"align-right\""
        }
    }
}

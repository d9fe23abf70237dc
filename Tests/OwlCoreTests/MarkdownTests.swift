import Foundation
import Testing
@testable import OwlCore

@Suite struct MarkdownTests {
    @Test(arguments: [
        ("# Title", "<h1 id=\"section-title\">Title</h1>\n"),
        ("### Disk *full* ###", "<h3 id=\"section-disk-full\">Disk <em>full</em></h3>\n"),
        ("#hashtag", "<p>#hashtag</p>\n"),
        ("Title\n=====", "<h1 id=\"section-title\">Title</h1>\n"),
        ("one\ntwo", "<p>one\ntwo</p>\n"),
        ("one  \ntwo", "<p>one<br>\ntwo</p>\n"),
        ("a\n\nb", "<p>a</p>\n<p>b</p>\n"),
        ("**bold** and *em* and ***both***", "<p><strong>bold</strong> and <em>em</em> and <em><strong>both</strong></em></p>\n"),
        ("__bold__ _em_ ~~gone~~", "<p><strong>bold</strong> <em>em</em> <del>gone</del></p>\n"),
        ("kube_pod_status_ready and 2 * 3 * 4", "<p>kube_pod_status_ready and 2 * 3 * 4</p>\n"),
        ("**unclosed and *half", "<p>**unclosed and *half</p>\n"),
        ("`kubectl get pods -n <ns>`", "<p><code>kubectl get pods -n &lt;ns&gt;</code></p>\n"),
        ("`` a ` b ``", "<p><code>a ` b</code></p>\n"),
        ("\\*not em\\*", "<p>*not em*</p>\n"),
        ("```bash\nkubectl rollout restart deploy/api\n```", "<pre><code class=\"language-bash\">kubectl rollout restart deploy/api\n</code></pre>\n"),
        ("    indented\n    code", "<pre><code>indented\ncode\n</code></pre>\n"),
        ("> quoted\n> more", "<blockquote>\n<p>quoted\nmore</p>\n</blockquote>\n"),
        ("- a\n- b", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n"),
        ("1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"),
        ("3) c\n4) d", "<ol start=\"3\">\n<li>c</li>\n<li>d</li>\n</ol>\n"),
        ("- a\n\n- b", "<ul>\n<li><p>a</p>\n</li>\n<li><p>b</p>\n</li>\n</ul>\n"),
        ("- a\n  - nested\n- b", "<ul>\n<li>a<ul>\n<li>nested</li>\n</ul>\n</li>\n<li>b</li>\n</ul>\n"),
        ("- [ ] check\n- [x] done", "<ul>\n<li class=\"task\"><span class=\"task-box\" role=\"img\" aria-label=\"to do\">☐</span> check</li>\n<li class=\"task\"><span class=\"task-box\" role=\"img\" aria-label=\"done\">☑</span> done</li>\n</ul>\n"),
        ("text\n- item", "<p>text</p>\n<ul>\n<li>item</li>\n</ul>\n"),
        ("text\n2. not a list", "<p>text\n2. not a list</p>\n"),
        ("---", "<hr>\n"),
        ("| a | b |\n|:--|--:|\n| 1 | `x|y` |", "<div class=\"table-wrap\"><table>\n<thead>\n<tr><th class=\"align-left\">a</th><th class=\"align-right\">b</th></tr>\n</thead>\n<tbody>\n<tr><td class=\"align-left\">1</td><td class=\"align-right\"><code>x|y</code></td></tr>\n</tbody>\n</table></div>\n"),
        ("[docs](https://example.com/a_(b) \"Docs\")", "<p><a href=\"https://example.com/a_(b)\" title=\"Docs\" rel=\"nofollow noopener noreferrer\">docs</a></p>\n"),
        ("[runbook](/runbooks/1)", "<p><a href=\"/runbooks/1\">runbook</a></p>\n"),
        ("see https://grafana.example.com/d/x.", "<p>see <a href=\"https://grafana.example.com/d/x\" rel=\"nofollow noopener noreferrer\">https://grafana.example.com/d/x</a>.</p>\n"),
        ("<https://a.example> and <ops@example.com>", "<p><a href=\"https://a.example\" rel=\"nofollow noopener noreferrer\">https://a.example</a> and <a href=\"mailto:ops@example.com\">ops@example.com</a></p>\n"),
        ("![graph](/assets/g.png)", "<p><img src=\"/assets/g.png\" alt=\"graph\" loading=\"lazy\"></p>\n"),
        ("![stream](/events)", "<p><a href=\"/events\">stream</a></p>\n"),
        ("![graph](https://evil.example/pixel.png)", "<p><a href=\"https://evil.example/pixel.png\" rel=\"nofollow noopener noreferrer\">graph</a></p>\n"),
        ("AT&T &amp; &copy; &#169;", "<p>AT&amp;T &amp; &copy; &#169;</p>\n"),
    ] as [(String, String)])
    func rendersMarkdown(source: String, html: String) {
        #expect(Markdown.html(source) == html)
    }

    /// Whatever the source holds, no element or attribute comes from it, and no link runs script.
    @Test(arguments: [
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"),
        ("<img src=x onerror=alert(1)>", "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n"),
        ("[click](javascript:alert(1))", "<p>click</p>\n"),
        ("[click](JaVaScRiPt:alert(1))", "<p>click</p>\n"),
        ("[click](java\u{0}script:alert(1))", "<p>click</p>\n"),
        ("[click](data:text/html;base64,PHNjcmlwdD4=)", "<p>click</p>\n"),
        ("[click](vbscript:msgbox)", "<p>click</p>\n"),
        ("<javascript:alert(1)>", "<p>&lt;javascript:alert(1)&gt;</p>\n"),
        ("![x](javascript:alert(1))", "<p>x</p>\n"),
        ("![x](//evil.example/a.png)", "<p><a href=\"//evil.example/a.png\">x</a></p>\n"),
        ("[a](\"onmouseover=\"alert(1))", "<p><a href=\"&quot;onmouseover=&quot;alert(1)\">a</a></p>\n"),
        ("[a](/x \"t\\\" onclick=\\\"alert(1)\")", "<p><a href=\"/x\" title=\"t&quot; onclick=&quot;alert(1)\">a</a></p>\n"),
        ("```\"><script>\nx\n```", "<pre><code class=\"language-script\">x\n</code></pre>\n"),
        ("<svg/onload=alert(1)>", "<p>&lt;svg/onload=alert(1)&gt;</p>\n"),
        ("&#x3C;script&#x3E;", "<p>&#x3C;script&#x3E;</p>\n"),
        ("[a](/x \"\u{301}t\" onclick=x)", "<p>[a](/x &quot;\u{301}t&quot; onclick=x)</p>\n"),
        ("![\"\u{301} onerror=x](/i.png)", "<p><img src=\"/i.png\" alt=\"&quot;\u{301} onerror=x\" loading=\"lazy\"></p>\n"),
    ] as [(String, String)])
    func neverPassesMarkupThrough(source: String, html: String) {
        #expect(Markdown.html(source) == html)
    }

    @Test func headingAnchorsAreUniqueAndPrefixed() {
        let source = "# Steps\n## Steps\n## Roll *back*"
        #expect(Markdown.headings(source).map(\.anchor) == ["section-steps", "section-steps-2", "section-roll-back"])
        #expect(Markdown.headings(source).map(\.text) == ["Steps", "Steps", "Roll back"])
        #expect(Markdown.html("# A", headingOffset: 2) == "<h3 id=\"section-a\">A</h3>\n")
        // Headings in quotes and lists count too, in the renderer's order.
        let nested = "> ## Rollback\n\n- ## Rollback\n\n## Rollback"
        let anchors = Markdown.headings(nested).map(\.anchor)
        #expect(anchors == ["section-rollback", "section-rollback-2", "section-rollback-3"])
        for anchor in anchors { #expect(Markdown.html(nested).contains("id=\"\(anchor)\"")) }
        #expect(Markdown.html("###### A", headingOffset: 2).hasPrefix("<h6"))
    }

    /// Hostile shapes finish quickly (they would take minutes if each opener searched the rest of the text).
    @Test func hostileInputStaysLinear() {
        let shapes = [String(repeating: "*a ", count: 50_000), String(repeating: "[", count: 50_000), String(repeating: "`a", count: 50_000),
                      String(repeating: "> ", count: 5_000) + "deep", String(repeating: "- ", count: 5_000) + "deep", String(repeating: "_a", count: 50_000),
                      String(repeating: "![", count: 20_000) + String(repeating: "]()", count: 20_000), String(repeating: "[](", count: 50_000),
                      String(repeating: "[a](x (", count: 30_000), "https://a" + String(repeating: ")", count: 50_000)]
        for shape in shapes {
            let html = Markdown.html(shape)
            #expect(!html.isEmpty)
            #expect(!html.contains("<script"))
        }
    }
}

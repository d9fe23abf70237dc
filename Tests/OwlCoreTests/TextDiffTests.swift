import Testing
@testable import OwlCore

@Suite struct TextDiffTests {
    typealias Part = TextDiff.Part

    @Test(arguments: [
        ("same", "same", [Part.same("same")]),
        ("", "new", [.added("new")]),
        ("old", "", [.removed("old")]),
        ("restart the pod", "restart the deployment", [.same("restart the "), .removed("pod"), .added("deployment")]),
        ("scale up now", "scale up the workers now", [.same("scale up "), .added("the workers "), .same("now")]),
        ("a\nb\nc\n", "a\nB\nc\n", [.same("a\n"), .removed("b\n"), .added("B\n"), .same("c\n")]),
        ("a\nb\n", "a\nb\nc\n", [.same("a\nb\n"), .added("c\n")]),
        ("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", [.same("a\n"), .removed("b\n"), .added("B\n"), .same("c\n")]),
        ("x\ny\nz", "y\nz\nw", [.removed("x\n"), .same("y\n"), .removed("z"), .added("z\nw")]),
    ] as [(String, String, [Part])])
    func readableDifferences(old: String, new: String, parts: [Part]) {
        #expect(TextDiff.diff(old, new) == parts)
    }

    /// Whatever the texts, the old one is the same and removed parts, the new one the same and added parts.
    @Test(arguments: [("one\ntwo\nthree\n", "zero\ntwo\nthree\nfour\n"), ("a b c d", "a c e d"), ("", ""), ("α β\nγ", "α\nβ γ")])
    func partsRebuildBothVersions(old: String, new: String) {
        let parts = TextDiff.diff(old, new)
        let before = parts.map { if case .added = $0 { return "" }; if case .same(let t) = $0 { return t }; if case .removed(let t) = $0 { return t }; return "" }
        let after = parts.map { if case .removed = $0 { return "" }; if case .same(let t) = $0 { return t }; if case .added(let t) = $0 { return t }; return "" }
        #expect(before.joined() == old)
        #expect(after.joined() == new)
    }

    @Test func longUnchangedStretchesAreFolded() {
        let old = (1...20).map { "line \($0)\n" }.joined()
        let new = old.replacingOccurrences(of: "line 10\n", with: "line ten\n")
        let folded = TextDiff.folded(TextDiff.diff(old, new))
        #expect(folded.count == 4)
        #expect(folded[0] == .same("… 6 unchanged lines …\nline 7\nline 8\nline 9\n"))
        #expect(folded[3] == .same("line 11\nline 12\nline 13\n… 7 unchanged lines …\n"))
    }
}

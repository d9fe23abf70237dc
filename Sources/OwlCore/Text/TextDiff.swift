/// What changed between two versions of a text, for people to read: line by line, or word by word when both versions
/// are a single line. The longest common subsequence of the middle (after the shared start and end) is computed; a
/// middle too large for that is shown as removed and added whole.
public enum TextDiff {
    public enum Part: Equatable, Sendable {
        case same(String)
        case removed(String)
        case added(String)
    }

    /// Above this many cells (lines × lines) the middle is not compared.
    static let maxCells = 4_000_000

    public static func diff(_ old: String, _ new: String) -> [Part] {
        // A browser sends a textarea's lines with CRLF; "\r\n" is one Character, which no "\n" search finds.
        let old = old.replacingOccurrences(of: "\r\n", with: "\n"), new = new.replacingOccurrences(of: "\r\n", with: "\n")
        let single = !old.contains("\n") && !new.contains("\n")
        let a = single ? words(old) : lines(old)
        let b = single ? words(new) : lines(new)
        return merged(compare(a, b))
    }

    /// Unchanged stretches longer than `context * 2` lines keep `context` lines at each end and say how many were left
    /// out between them (as `same("…")`).
    public static func folded(_ parts: [Part], context: Int = 3) -> [Part] {
        parts.enumerated().map { index, part in
            guard case .same(let text) = part else { return part }
            let pieces = lines(text)
            guard pieces.count > context * 2 + 1 else { return part }
            let head = index == 0 ? [] : pieces.prefix(context)
            let tail = index == parts.count - 1 ? [] : pieces.suffix(context)
            let hidden = pieces.count - head.count - tail.count
            return .same(head.joined() + "… \(hidden) unchanged line\(hidden == 1 ? "" : "s") …\n" + tail.joined())
        }
    }

    static func lines(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        while let newline = text[start...].firstIndex(of: "\n") {
            let next = text.index(after: newline)
            result.append(text[start..<next])
            start = next
        }
        if start < text.endIndex { result.append(text[start...]) }
        return result
    }

    static func words(_ text: String) -> [Substring] {
        var result: [Substring] = []
        var start = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            if next < text.endIndex, text[next].isWhitespace != text[index].isWhitespace {
                result.append(text[start..<next])
                start = next
            }
            index = next
        }
        if start < text.endIndex { result.append(text[start...]) }
        return result
    }

    static func compare(_ a: [Substring], _ b: [Substring]) -> [Part] {
        var prefix = 0
        while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
        var suffix = 0
        while suffix < a.count - prefix, suffix < b.count - prefix, a[a.count - 1 - suffix] == b[b.count - 1 - suffix] { suffix += 1 }
        let oldMiddle = Array(a[prefix..<(a.count - suffix)])
        let newMiddle = Array(b[prefix..<(b.count - suffix)])
        var parts = a[..<prefix].map { Part.same(String($0)) }
        if oldMiddle.count * newMiddle.count > maxCells {
            parts += oldMiddle.map { .removed(String($0)) } + newMiddle.map { .added(String($0)) }
        } else {
            parts += common(oldMiddle, newMiddle)
        }
        return parts + a[(a.count - suffix)...].map { .same(String($0)) }
    }

    /// The classic table of common-subsequence lengths, walked from the start; removals come before additions.
    static func common(_ a: [Substring], _ b: [Substring]) -> [Part] {
        let width = b.count + 1
        var lengths = [Int](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i * width + j] = a[i] == b[j] ? lengths[(i + 1) * width + j + 1] + 1
                    : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
            }
        }
        var parts: [Part] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                parts.append(.same(String(a[i]))); i += 1; j += 1
            } else if j == b.count || (i < a.count && lengths[(i + 1) * width + j] >= lengths[i * width + j + 1]) {
                parts.append(.removed(String(a[i]))); i += 1
            } else {
                parts.append(.added(String(b[j]))); j += 1
            }
        }
        return parts
    }

    /// Neighbours of the same kind joined; within a changed stretch, all removals before all additions.
    static func merged(_ parts: [Part]) -> [Part] {
        var result: [Part] = []
        var removed = "", added = ""
        func flushChanges() {
            if !removed.isEmpty { result.append(.removed(removed)); removed = "" }
            if !added.isEmpty { result.append(.added(added)); added = "" }
        }
        for part in parts {
            switch part {
            case .removed(let text): removed += text
            case .added(let text): added += text
            case .same(let text):
                flushChanges()
                if case .same(let previous) = result.last { result[result.count - 1] = .same(previous + text) } else { result.append(.same(text)) }
            }
        }
        flushChanges()
        return result
    }
}

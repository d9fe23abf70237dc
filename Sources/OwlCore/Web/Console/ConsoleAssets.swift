import Crypto
import Foundation
import Hummingbird

/// The consoles' stylesheet and script, served under names that carry a hash of their content
/// (`/assets/owl.3f2a9c1e.css`), so a browser keeps them for a year and still gets a new one the moment it changes.
public struct ConsoleAssets: Sendable {
    public struct Asset: Sendable {
        public var path: String
        var contentType: String
        var body: String
    }

    public let stylesheet: Asset
    public let script: Asset

    /// The files shipped in OwlCore's resources (`Web/Assets`); read once.
    public static let shipped = ConsoleAssets(directory: Bundle.module.url(forResource: "Assets", withExtension: nil))

    init(directory: URL?) {
        func load(_ name: String, _ ext: String, _ type: String) -> Asset {
            let source = directory.flatMap { try? String(contentsOf: $0.appendingPathComponent("\(name).\(ext)"), encoding: .utf8) } ?? ""
            let text = ext == "css" ? AssetMinifier.css(source) : AssetMinifier.script(source)
            let digest = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            return Asset(path: "/assets/\(name).\(digest).\(ext)", contentType: type, body: text)
        }
        stylesheet = load("owl", "css", "text/css; charset=utf-8")
        script = load("owl", "js", "text/javascript; charset=utf-8")
    }

    /// The asset at `path`, if it is one of this build's.
    func asset(at path: String) -> Asset? { [stylesheet, script].first { $0.path == path } }

    func response(_ asset: Asset) -> Response {
        Response(status: .ok, headers: [.contentType: asset.contentType, .cacheControl: "public, max-age=31536000, immutable"],
                 body: .init(byteBuffer: ByteBuffer(string: asset.body)))
    }
}

/// Smaller stylesheets and scripts without changing what they do: the source keeps its comments and layout for people,
/// the browser gets neither. Deliberately simple, because the files are ours: the stylesheet loses comments and the
/// spaces around its punctuation; the script loses indentation, blank lines and lines that are only a comment (line
/// breaks stay, so no statement runs into the next).
enum AssetMinifier {
    static func css(_ source: String) -> String {
        var text = source.replacingOccurrences(of: #"/\*[\s\S]*?\*/"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: #"\s+"#, with: " ", options: .regularExpression)
        text = text.replacingOccurrences(of: #" ?([{};,>]) ?"#, with: "$1", options: .regularExpression)
        text = text.replacingOccurrences(of: #"([{;]) ?([a-z-]+): "#, with: "$1$2:", options: .regularExpression)
        return text.replacingOccurrences(of: ";}", with: "}").trimmingCharacters(in: .whitespaces)
    }

    static func script(_ source: String) -> String {
        source.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && !$0.hasPrefix("//") }.joined(separator: "\n") + "\n"
    }
}

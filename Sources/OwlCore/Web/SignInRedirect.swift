import Foundation
import Hummingbird

/// Where a browser goes to sign in, and where it may be sent back to afterwards.
public enum SignInRedirect {
    public static let path = "/auth/sign-in"

    /// 303 to the sign-in page, remembering the page that was asked for (a GET only: a form post is not repeated).
    public static func response(for request: Request) -> Response {
        let back = request.method == .get ? request.uri.description : nil
        let location = path + (back.map { "?return_to=" + FormEncoding.escape(ReturnPath.safe($0)) } ?? "")
        return Response(status: .seeOther, headers: [.location: location])
    }
}

/// Only a path of this site may be returned to after signing in: `/alerts?status=open`, never `//evil.example` or
/// `https://evil.example`, which would make the sign-in page an open redirect.
public enum ReturnPath {
    public static func safe(_ raw: String?, fallback: String = "/") -> String {
        guard let raw, raw.hasPrefix("/"), !raw.hasPrefix("//"), !raw.contains("\\"), raw.count <= 2_000,
              !raw.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else { return fallback }
        return raw
    }
}

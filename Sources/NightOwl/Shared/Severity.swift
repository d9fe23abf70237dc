import OwlCore

/// How bad an alert or incident is, most severe first.
public enum Severity: String, StrictEnum, Comparable {
    case critical, major, warning, info

    var rank: Int {
        switch self {
        case .critical: 3
        case .major: 2
        case .warning: 1
        case .info: 0
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// JSON text for flat string maps, written by hand: the webhook path turns every alert's labels into jsonb, and
/// JSONEncoder costs more than the rest of the request.
public enum JSONText {
    public static func object(_ map: [String: String]) -> String {
        var out = "{"
        var first = true
        for (key, value) in map {
            if !first { out += "," }
            first = false
            string(key, into: &out)
            out += ":"
            string(value, into: &out)
        }
        return out + "}"
    }

    public static func string(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

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

    /// A JSON string, escaped as JSONEncoder escapes it.
    public static func string(_ text: String, into out: inout String) {
        JSONObjectWriter.writeString(text, into: &out)
    }
}

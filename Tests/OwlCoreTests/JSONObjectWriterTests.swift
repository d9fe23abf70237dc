import Foundation
import OwlCore
import Testing

/// The hand-written JSON must be JSONEncoder's, byte for byte: clients see one format whichever path wrote it.
@Suite struct JSONObjectWriterTests {
    struct Sample: JSONObjectWritable, Equatable {
        var text: String
        var optionalText: String?
        var list: [String]
        var map: [String: String]
        var id: UUID
        var missingID: UUID?
        var ids: [UUID]
        var when: Date
        var never: Date?
        var count: Int
        var flag: Bool
        var score: Double

        enum CodingKeys: String, CodingKey {
            case text = "zeta_text", optionalText = "Optional", list = "a_list", map = "éclair", id, missingID = "missing_id"
            case ids, when = "when_at", never, count = "_count", flag, score
        }

        func writeMembers(into object: inout JSONObjectWriter) {
            object.string("zeta_text", text)
            object.string("Optional", optionalText)
            object.strings("a_list", list)
            object.stringMap("éclair", map)
            object.uuid("id", id)
            object.uuid("missing_id", missingID)
            object.uuids("ids", ids)
            object.date("when_at", when)
            object.date("never", never)
            object.int("_count", count)
            object.bool("flag", flag)
            object.double("score", score)
        }
    }

    static let awkward = (0..<0x20).map { String(UnicodeScalar($0)!) }.joined()
        + #"quote " backslash \ slash / <tag> & é 🦉 e\#u{301} "\#u{301}"#

    @Test(arguments: [0.0, 1.0, -2.0, 0.5, 1e-20, 0.6079270839691162, 123_456_789.0, 1e21, 0.1 + 0.2, Double(Float(0.24317084))])
    func matchesJSONEncoder(score: Double) throws {
        let sample = Sample(text: Self.awkward, optionalText: score > 1 ? "set" : nil, list: ["", Self.awkward, "b"],
                            map: ["b": "2", "a": Self.awkward, "B": "3", "é": "4"], id: UUID(), missingID: nil, ids: [UUID(), UUID()],
                            when: Date(timeIntervalSince1970: 1_795_000_000.123), never: score > 1 ? Date() : nil,
                            count: score > 1e9 ? 1 : Int(score) - 7, flag: score > 1, score: score)
        let encoded = String(decoding: try JSON.encoder.encode(sample), as: UTF8.self)
        #expect(sample.jsonObject() == encoded)
        let list = OffsetList(items: [sample, sample], total: 42, page: OffsetPage(limit: 2, offset: 4))
        #expect(list.jsonDocument() == String(decoding: try JSON.encoder.encode(list), as: UTF8.self))
        let empty = OffsetList<Sample>(items: [], total: 0, page: OffsetPage(limit: 20, offset: 0))
        #expect(empty.jsonDocument() == String(decoding: try JSON.encoder.encode(empty), as: UTF8.self))
    }
}

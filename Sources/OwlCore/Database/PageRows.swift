import PostgresNIO

extension PostgresRowSequence {
    /// The rows of a page query whose last column is `count(*) OVER ()`: the decoded items and that total.
    public func page<Item>(_ decode: (PostgresRow) throws -> Item) async throws -> (items: [Item], total: Int) {
        var items: [Item] = []
        var total = 0
        for try await row in self {
            items.append(try decode(row))
            let cells = row.makeRandomAccess()
            total = try cells[cells.count - 1].decode(Int.self)
        }
        return (items, total)
    }
}

public import ReconBills
public import ReconCore

/// Collects a writer's lines and hands them to the caller's sink in chunks of about 64 KiB, so a
/// million-line bill is never whole in memory and the sink is not called once per line.
struct BillByteSink {
    private let sink: ([UInt8]) throws -> Void
    private let encoder: TextEncoder
    private var buffer: [UInt8] = []
    private static let chunk = 1 << 16

    init(encoder: TextEncoder, sink: @escaping ([UInt8]) throws -> Void) {
        self.sink = sink
        self.encoder = encoder
    }

    /// One line of text in the bill's encoding, then CRLF.
    mutating func line(_ text: String) throws {
        buffer += try encoder.encode(text)
        buffer += [13, 10]
        if buffer.count >= Self.chunk { try flush() }
    }

    /// Bytes as they are (already encoded), then CRLF.
    mutating func line(bytes: [UInt8]) throws {
        buffer += bytes
        buffer += [13, 10]
        if buffer.count >= Self.chunk { try flush() }
    }

    func encode(_ text: String) throws -> [UInt8] {
        try encoder.encode(text)
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

/// Text helpers the writers share.
enum BillText {
    /// Signed fen as yuan with 2 decimals: `-2000` → `-20.00`.
    static func yuan(_ fen: Int64) -> String { Money.yuanText(fen: fen) }

    /// The Beijing wall time as `yyyy-MM-dd HH:mm:ss`.
    static func time(_ transaction: SyntheticTransaction) -> String { LocalTime.text(transaction.localSeconds) }

    /// 00:00:00 of the day, as Beijing local seconds.
    static func midnight(_ day: LocalDay) -> Int64 { Int64(day.dayNumber) * 86_400 }
}

public import ReconBills
public import ReconCore

/// Writes UnionPay ZM records (CHANNELS.md §3.3): 607 bytes each plus CRLF, the "simplest
/// faithful subset" of fields filled (numbers zero-filled on the left, text left-aligned and
/// space-filled, GBK), every other field spaces. The subject goes to 商户自定义域 (field 35),
/// cut at a character boundary to its 32 bytes.
public struct UnionPayZMWriter {
    public let merchantID: String
    private var out: BillByteSink

    public init(merchantID: String, sink: @escaping ([UInt8]) throws -> Void) throws {
        self.merchantID = merchantID
        out = BillByteSink(encoder: try TextEncoder(.gbk), sink: sink)
    }

    public mutating func append(_ transaction: SyntheticTransaction) throws {
        try out.line(bytes: try record(transaction))
    }

    public mutating func finish() throws {
        try out.flush()
    }

    /// The 607 bytes of one record.
    func record(_ transaction: SyntheticTransaction) throws -> [UInt8] {
        typealias Layout = UnionPayZMLayout
        let payment = transaction.kind == .payment
        let parts = LocalTime.components(transaction.localSeconds)
        let time = [parts.month, parts.day, parts.hour, parts.minute, parts.second].map { LocalTime.pad($0, 2) }
            .joined()
        let amount = abs(transaction.amountFen)
        let net = transaction.amountFen - transaction.feeFen
        var fields: [Int: [UInt8]] = [
            1: Array("S22".utf8), 2: Array("00000000000".utf8), 3: Array("00000000000".utf8),
            4: Array(LocalTime.pad(transaction.sequence % 1_000_000, 6).utf8), 5: Array(time.utf8),
            6: Array("621700******0000".utf8), 7: Array(LocalTime.pad(Int(amount), 12).utf8),
            10: Array((payment ? transaction.channelTransactionID : transaction.channelRefundID ?? "").utf8),
            12: Array((payment ? transaction.merchantOrderID : transaction.refundID ?? "").utf8),
            16: Self.directed(transaction.feeFen, positive: "D", negative: "C"),
            17: Self.directed(transaction.amountFen, positive: "C", negative: "D"),
            20: Array((payment ? "01" : "04").utf8), 21: Array("01".utf8), 22: Array("000201".utf8),
            28: Array(merchantID.utf8), 33: Self.directed(net, positive: "C", negative: "D"),
            35: Self.cut(try out.encode(transaction.subject), to: Layout.lengths[Layout.custom - 1]),
        ]
        if !payment { fields[27] = Array(transaction.channelTransactionID.utf8) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Layout.recordLength)
        for number in 1...Layout.lengths.count {
            if number > 1 { bytes.append(32) }
            let value = (fields[number] ?? []).prefix(Layout.lengths[number - 1])
            bytes += value
            bytes += repeatElement(32, count: Layout.lengths[number - 1] - value.count)
        }
        return bytes
    }

    /// `D000000000030`: a direction letter and 12 digits of fen.
    static func directed(_ fen: Int64, positive: String, negative: String) -> [UInt8] {
        Array(((fen < 0 ? negative : positive) + LocalTime.pad(Int(fen.magnitude), 12)).utf8)
    }

    /// At most `length` GBK bytes, never ending inside a two-byte character.
    static func cut(_ bytes: [UInt8], to length: Int) -> [UInt8] {
        var end = 0
        var index = 0
        while index < bytes.count {
            let width = bytes[index] < 0x80 ? 1 : 2
            guard index + width <= length else { break }
            index += width
            end = index
        }
        return Array(bytes[..<end])
    }
}

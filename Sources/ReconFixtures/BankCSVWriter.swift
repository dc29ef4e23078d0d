import ReconBills

/// Writes a `recon-bank-v1` file (CHANNELS.md §4): UTF-8, comma, CRLF, yuan, refunds negative,
/// fee positive when charged, and the `#TOTAL,count,sum,fee` trailer. A refund gets its own line
/// id (`channelRefundID`), as in the §4 example.
public struct BankCSVWriter {
    public static let header = "txn_time,channel_txn_id,merchant_order_id,refund_id,kind,amount,fee,currency,status"
    private var out: BillByteSink
    private var wroteHeader = false
    private var truth = SyntheticTruth()

    public init(sink: @escaping ([UInt8]) throws -> Void) {
        out = BillByteSink(encoder: .utf8, sink: sink)
    }

    public mutating func append(_ transaction: SyntheticTransaction) throws {
        try writeHeader()
        let payment = transaction.kind == .payment
        let fields = [
            BillText.time(transaction),
            payment
                ? transaction.channelTransactionID : transaction.channelRefundID ?? transaction.channelTransactionID,
            transaction.merchantOrderID, transaction.refundID ?? "", transaction.kind.rawValue,
            BillText.yuan(transaction.amountFen), BillText.yuan(transaction.feeFen), "CNY", "SUCCESS",
        ]
        try out.line(fields.map(Self.quoted).joined(separator: ","))
        truth.add(transaction)
    }

    public mutating func finish() throws {
        try writeHeader()
        try out.line("#TOTAL,\(truth.count),\(BillText.yuan(truth.amountFen)),\(BillText.yuan(truth.feeFen))")
        try out.flush()
    }

    private mutating func writeHeader() throws {
        guard !wroteHeader else { return }
        wroteHeader = true
        try out.line(Self.header)
    }

    /// RFC 4180: a field holding a comma, quote or line break is quoted, quotes doubled.
    static func quoted(_ field: String) -> String {
        let special: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: "\""), 10, 13]
        guard field.utf8.contains(where: special.contains) else { return field }
        return "\"" + field.replacing("\"", with: "\"\"") + "\""
    }
}

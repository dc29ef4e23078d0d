/// What every channel's bill parser does: bytes in as they arrive, checked lines out, and the
/// whole-bill checks (totals, footers, trailer) at `finish`. A refusal is a `BillError` naming the
/// file, line, column and check; lines already emitted must then be thrown away by the caller,
/// which stages them in one transaction and commits only after `finish` returned.
public protocol BillParser {
    mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (BillLine) throws -> Void) throws(BillError)
    mutating func finish(emit: (BillLine) throws -> Void) throws(BillError)
    /// After finish: what the bill itself declared and what was parsed.
    var summary: BillSummary { get }
}

extension BillParser {
    /// Feeds bytes held in any collection (an array, a slice, `Data`), for tests and small files.
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: (BillLine) throws -> Void) throws(BillError) {
        let array = Array(bytes)
        var failure: BillError?
        array.withUnsafeBytes { raw in
            do throws(BillError) { try feed(raw, emit: emit) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}

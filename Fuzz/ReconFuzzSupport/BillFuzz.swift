public import ReconBills

/// What one pass of a bill parser came to: every line it emitted and its summary, or the refusal.
public enum BillOutcome {
    case parsed(lines: [BillLine], summary: BillSummary)
    case refused(BillError)

    public var accepted: Bool {
        if case .parsed = self { true } else { false }
    }
}

public enum BillFuzz {
    /// Parses `bytes` as production does (feed, then finish, then `after`, e.g. Alipay's check
    /// against its summary file) twice: whole, and in `Pieces`. A refusal is fine; the two passes
    /// disagreeing (one refuses, or they emit different lines or summaries) is a finding, and traps.
    @discardableResult
    public static func check<Parser: BillParser>(
        _ bytes: UnsafeRawBufferPointer, make: () -> Parser,
        after: (inout Parser) throws(BillError) -> Void = { _ throws(BillError) in }
    ) -> BillOutcome {
        let whole = parse(make(), after: after) { parser, emit throws(BillError) in
            try parser.feed(bytes, emit: emit)
        }
        let pieces = parse(make(), after: after) { parser, emit throws(BillError) in
            try Pieces.forEach(bytes) { piece throws(BillError) in try parser.feed(piece, emit: emit) }
        }
        switch (whole, pieces) {
        case (.refused, .refused): break
        case (.parsed(let a, let s), .parsed(let b, let t)) where a == b && s == t: break
        default: fatalError("the whole input and the same bytes in pieces parse differently:\n\(whole)\n\(pieces)")
        }
        return whole
    }

    private static func parse<Parser: BillParser>(
        _ parser: Parser, after: (inout Parser) throws(BillError) -> Void,
        feed: (inout Parser, (BillLine) throws -> Void) throws(BillError) -> Void
    ) -> BillOutcome {
        var parser = parser
        var lines: [BillLine] = []
        do throws(BillError) {
            try feed(&parser) { lines.append($0) }
            try parser.finish { lines.append($0) }
            try after(&parser)
        } catch {
            return .refused(error)
        }
        return .parsed(lines: lines, summary: parser.summary)
    }
}

import ReconBills
public import ReconRecords

/// What reading one import file came to: the rows parsed before the first problem (production
/// copies only those, and only if there is none) and every problem, as `RecordImporter.load`
/// counts them.
public struct ImportOutcome<Record: Equatable>: Equatable {
    public var records: [Record] = []
    public var problems: [RecordProblem] = []
    public var accepted: Bool { problems.isEmpty }
}

public enum ImportFuzz {
    /// Reads `bytes` as `RecordImporter.load` does, without the database: CSV records, the first
    /// checked as the header, blank lines skipped, every later one parsed, a CSV syntax failure a
    /// problem. Whole and in `Pieces`; the two must agree exactly, problems included.
    @discardableResult
    public static func check<Record: Equatable>(
        _ bytes: UnsafeRawBufferPointer, checkHeader: ([[UInt8]], Int) throws(RecordProblem) -> Void,
        parse: ([[UInt8]], Int) throws(RecordProblem) -> Record
    ) -> ImportOutcome<Record> {
        let whole = read(bytes, inPieces: false, checkHeader: checkHeader, parse: parse)
        let pieces = read(bytes, inPieces: true, checkHeader: checkHeader, parse: parse)
        guard whole == pieces else {
            fatalError("the whole file and the same bytes in pieces read differently:\n\(whole)\n\(pieces)")
        }
        return whole
    }

    private static func read<Record: Equatable>(
        _ bytes: UnsafeRawBufferPointer, inPieces: Bool, checkHeader: ([[UInt8]], Int) throws(RecordProblem) -> Void,
        parse: ([[UInt8]], Int) throws(RecordProblem) -> Record
    ) -> ImportOutcome<Record> {
        var outcome = ImportOutcome<Record>()
        var reader = CSVRecordReader()
        var sawHeader = false
        func take(_ record: CSVRecordReader.Record) {
            guard sawHeader else {
                sawHeader = true
                do { try checkHeader(record.fields, record.line) } catch { outcome.problems.append(error) }
                return
            }
            if record.fields.count == 1, record.fields[0].isEmpty { return }
            let value: Record
            do { value = try parse(record.fields, record.line) } catch { return outcome.problems.append(error) }
            guard outcome.problems.isEmpty else { return }
            outcome.records.append(value)
        }
        do {
            if inPieces {
                try Pieces.forEach(bytes) { piece in try reader.feed(piece, emit: take) }
            } else {
                try reader.feed(bytes, emit: take)
            }
            try reader.finish(emit: take)
        } catch let failure as CSVRecordReader.Failure {
            outcome.problems.append(RecordProblem(line: failure.line, column: nil, message: "CSV: \(failure.reason)"))
        } catch {
            fatalError("CSVRecordReader threw something other than its Failure: \(error)")
        }
        if !sawHeader {
            outcome.problems.append(RecordProblem(line: 1, column: nil, message: "the file is empty: no header line"))
        }
        return outcome
    }
}

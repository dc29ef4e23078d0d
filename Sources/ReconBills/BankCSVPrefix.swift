/// What comes off the front of a bank file before the CSV reader sees it: a UTF-8 BOM, then
/// `skip_lines` preamble lines, dropped unread (a preamble may hold quotes the CSV rules refuse).
struct BankCSVPrefix: Sendable {
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private var bomCandidate: [UInt8]?
    private var linesToSkip: Int

    init(stripBOM: Bool, skipLines: Int) {
        bomCandidate = stripBOM ? [] : nil
        linesToSkip = skipLines
    }

    /// The part of `bytes` that belongs to the CSV body.
    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var input = Array(bytes)[...]
        if var candidate = bomCandidate {
            // Held back until three bytes say whether the file starts with a BOM.
            while candidate.count < 3, let byte = input.first, byte == Self.bom[candidate.count] {
                candidate.append(byte)
                input.removeFirst()
            }
            if candidate.count == 3 {
                bomCandidate = nil
            } else if input.isEmpty {
                bomCandidate = candidate
                return []
            } else {
                bomCandidate = nil
                input = (candidate + input)[...]
            }
        }
        while linesToSkip > 0, !input.isEmpty {
            guard let end = input.firstIndex(of: 10) else { return [] }
            input = input[(end + 1)...]
            linesToSkip -= 1
        }
        return Array(input)
    }

    /// Bytes still held back at the end of the file (a file shorter than a BOM).
    mutating func finish() -> [UInt8] {
        defer { bomCandidate = nil }
        return linesToSkip > 0 ? [] : bomCandidate ?? []
    }
}

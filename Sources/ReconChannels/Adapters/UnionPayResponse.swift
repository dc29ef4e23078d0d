import Foundation
import ReconArchive

/// UnionPay's file-transfer answer (CHANNELS.md §3.1): `k=v&k=v…` where `fileContent` is
/// base64(zlib(ZIP)). Read from a file in chunks: the small fields are kept, `fileContent` is
/// decoded and inflated straight into the ZIP file as it streams, so a bill of any size passes
/// through in constant memory. Base64 is strict and zlib checks its Adler-32.
struct UnionPayResponse {
    var fields: [String: String] = [:]
    /// Whether `fileContent` was present (its ZIP is then in the output file).
    var hadFile = false

    /// `fileContent` did not decode; the other fields read so far come with it.
    struct DecodeFailure: Error {
        var response: UnionPayResponse
        var reason: String
    }

    /// Keys and values other than `fileContent` are short; longer ones mean a broken answer.
    static let maxFieldBytes = 64 << 10

    static func read(_ path: String, zipTo output: String, maxBytes: Int64, label: String) throws -> UnionPayResponse {
        var response = UnionPayResponse()
        do {
            try readFields(path, zipTo: output, maxBytes: maxBytes, label: label, into: &response)
        } catch {
            throw DecodeFailure(response: response, reason: "\(error)")
        }
        return response
    }

    /// Writes the ZIP to `<output>.part` and renames it when whole, so no partial file ever
    /// carries the final name.
    private static func readFields(
        _ path: String, zipTo output: String, maxBytes: Int64, label: String, into response: inout UnionPayResponse
    ) throws {
        var key: [UInt8] = []
        var value: [UInt8] = []
        var inKey = true
        var braces = 0
        var file: FileContentSink?
        func endPair() throws {
            if file != nil {
                try file?.finish()
                file = nil
                guard rename(output + ".part", output) == 0 else { throw ChannelError.transient("cannot rename \(output).part") }
                response.hadFile = true
            } else if !key.isEmpty {
                response.fields[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
            key.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            inKey = true
        }
        try FileDigest.forEachChunk(path) { chunk in
            for byte in chunk {
                if inKey {
                    if byte == UInt8(ascii: "=") {
                        inKey = false
                        if key == Array("fileContent".utf8) {
                            file = try FileContentSink(path: output + ".part", maxBytes: maxBytes, label: label)
                        }
                    } else if byte == UInt8(ascii: "&") {
                        try endPair()
                    } else {
                        key.append(byte)
                        if key.count > maxFieldBytes { throw ArchiveError(file: label, check: "answer", reason: "a key longer than 64 KiB") }
                    }
                    continue
                }
                if let sink = file {
                    if byte == UInt8(ascii: "&") { try endPair() } else { try sink.push(byte) }
                    continue
                }
                // Outside fileContent, `&` inside {…} belongs to the value (the SDK's rule).
                if byte == UInt8(ascii: "{") { braces += 1 }
                if byte == UInt8(ascii: "}") { braces = max(0, braces - 1) }
                if byte == UInt8(ascii: "&"), braces == 0 {
                    try endPair()
                } else {
                    value.append(byte)
                    if value.count > maxFieldBytes {
                        throw ArchiveError(file: label, check: "answer", reason: "a value longer than 64 KiB (an unclosed '{'?)")
                    }
                }
            }
        }
        try endPair()
    }
}

/// base64 → zlib inflate → file, decoded in blocks of 64 KiB of text.
private final class FileContentSink {
    private let inflater: Inflater
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var ended = false
    private let label: String

    init(path: String, maxBytes: Int64, label: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ChannelError.transient("cannot write \(path)")
        }
        self.handle = handle
        self.label = label
        inflater = try Inflater(format: .zlib, maxOutputBytes: maxBytes, label: label)
        pending.reserveCapacity(72 << 10)
    }

    deinit { try? handle.close() }

    func push(_ byte: UInt8) throws {
        // CR/LF are line wrapping; a '+' turned into ' ' by a form decoder is put back.
        if byte == 13 || byte == 10 { return }
        pending.append(byte == UInt8(ascii: " ") ? UInt8(ascii: "+") : byte)
        if pending.count >= 64 << 10 { try decode(final: false) }
    }

    func finish() throws {
        try decode(final: true)
        try inflater.finish()
        try handle.close()
    }

    /// Decodes the longest run of whole 4-character groups (all of it at the end).
    private func decode(final: Bool) throws {
        let whole = pending.count / 4 * 4
        if final, whole != pending.count { throw refuse("fileContent's base64 length is not a multiple of 4 (cut?)") }
        guard whole > 0 else { return }
        guard !ended else { throw refuse("base64 continues after its padding") }
        let block = Data(pending[0..<whole])
        guard let bytes = Data(base64Encoded: block) else { throw refuse("fileContent is not valid base64") }
        // Padding may only close the whole value.
        if let pad = pending[0..<whole].firstIndex(of: UInt8(ascii: "=")), pad < whole - 2 || (!final && whole < pending.count) {
            throw refuse("base64 padding in the middle of fileContent")
        }
        ended = pending[whole - 1] == UInt8(ascii: "=")
        pending.removeFirst(whole)
        try bytes.withUnsafeBytes { raw in
            try inflater.push(raw) { try handle.write(contentsOf: Data($0)) }
        }
    }

    private func refuse(_ reason: String) -> ArchiveError {
        ArchiveError(file: label, check: "base64", reason: reason)
    }
}

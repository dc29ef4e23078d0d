import Crypto
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
    /// Where `fileContent`'s value sits in the answer file, so the signature check can hash it
    /// from there instead of keeping hundreds of MB in memory.
    var fileContentBytes: Range<Int64>?

    /// The answer did not read as one: `fileContent` did not decode (`wholeAnswer`: every other
    /// field was still read, so the answer can be verified), or reading stopped short.
    struct DecodeFailure: Error {
        var response: UnionPayResponse
        var reason: String
        var wholeAnswer: Bool
    }

    /// Keys and values other than `fileContent` are short; longer ones mean a broken answer.
    static let maxFieldBytes = 64 << 10

    static func read(_ path: String, zipTo output: String, maxBytes: Int64, label: String) throws -> UnionPayResponse {
        var response = UnionPayResponse()
        let undecodable: String?
        do {
            undecodable = try readFields(path, zipTo: output, maxBytes: maxBytes, label: label, into: &response)
        } catch {
            throw DecodeFailure(response: response, reason: "\(error)", wholeAnswer: false)
        }
        if let undecodable { throw DecodeFailure(response: response, reason: undecodable, wholeAnswer: true) }
        return response
    }

    /// Writes the ZIP to `<output>.part` and renames it when whole, so no partial file ever
    /// carries the final name. Returns why `fileContent` did not decode, if it did not: the
    /// fields after it are read all the same.
    private static func readFields(
        _ path: String, zipTo output: String, maxBytes: Int64, label: String, into response: inout UnionPayResponse
    ) throws -> String? {
        var key: [UInt8] = []
        var value: [UInt8] = []
        var inKey = true
        var braces = 0
        var inContent = false
        var file: FileContentSink?
        var undecodable: String?
        // Bytes of the answer before the current chunk, and where fileContent's value began.
        var consumed: Int64 = 0
        var contentStart: Int64 = 0
        func endPair(at end: Int64) throws {
            if inContent {
                inContent = false
                response.fileContentBytes = contentStart..<end
                if let sink = file {
                    file = nil
                    do {
                        try sink.finish()
                    } catch {
                        undecodable = "\(error)"
                    }
                    if undecodable == nil {
                        guard rename(output + ".part", output) == 0 else {
                            throw ChannelError.transient("cannot rename \(output).part")
                        }
                        response.hadFile = true
                    }
                }
            } else if !key.isEmpty {
                response.fields[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            }
            key.removeAll(keepingCapacity: true)
            value.removeAll(keepingCapacity: true)
            inKey = true
        }
        try FileDigest.forEachChunk(path) { chunk in
            var index = 0
            while index < chunk.count {
                defer { index += 1 }
                let byte = chunk[index]
                if inKey {
                    if byte == UInt8(ascii: "=") {
                        inKey = false
                        if key == Array("fileContent".utf8) {
                            inContent = true
                            contentStart = consumed + Int64(index) + 1
                            file = try FileContentSink(path: output + ".part", maxBytes: maxBytes, label: label)
                        }
                    } else if byte == UInt8(ascii: "&") {
                        try endPair(at: consumed + Int64(index))
                    } else {
                        key.append(byte)
                        if key.count > maxFieldBytes {
                            throw ArchiveError(file: label, check: "answer", reason: "a key longer than 64 KiB")
                        }
                    }
                    continue
                }
                if inContent {
                    if byte == UInt8(ascii: "&") {
                        try endPair(at: consumed + Int64(index))
                        continue
                    }
                    // The value runs to the next `&`: handed over in one span, not byte by byte.
                    let end = Self.index(of: UInt8(ascii: "&"), in: chunk, from: index) ?? chunk.count
                    if let sink = file {
                        // A value that stops decoding is skipped to its end; the fields after it still count.
                        do {
                            try sink.push(UnsafeRawBufferPointer(rebasing: chunk[index..<end]))
                        } catch {
                            undecodable = "\(error)"
                            file = nil
                        }
                    }
                    index = end - 1
                    continue
                }
                // Outside fileContent, `&` inside {…} belongs to the value (the SDK's rule).
                if byte == UInt8(ascii: "{") { braces += 1 }
                if byte == UInt8(ascii: "}") { braces = max(0, braces - 1) }
                if byte == UInt8(ascii: "&"), braces == 0 {
                    try endPair(at: consumed + Int64(index))
                } else {
                    value.append(byte)
                    if value.count > maxFieldBytes {
                        throw ArchiveError(
                            file: label, check: "answer", reason: "a value longer than 64 KiB (an unclosed '{'?)")
                    }
                }
            }
            consumed += Int64(chunk.count)
        }
        try endPair(at: consumed)
        return undecodable
    }

    private static func index(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, let found = memchr(base + start, Int32(byte), bytes.count - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// SHA-256 (lowercase hex) of the text UnionPay signs (CHANNELS.md §3.1): `k=v&…` of every field
    /// but `signature` in key order, `fileContent` hashed from the answer file as it was sent.
    func signedTextDigest(answerFile path: String) throws -> String {
        var hasher = SHA256()
        let keys = UnionPaySignature.signedKeys(Array(fields.keys) + (fileContentBytes == nil ? [] : ["fileContent"]))
        for (position, key) in keys.enumerated() {
            hasher.update(data: Data(((position == 0 ? "" : "&") + key + "=").utf8))
            if key == "fileContent", let range = fileContentBytes {
                try FileDigest.forEachChunk(path, range: range) { hasher.update(bufferPointer: $0) }
            } else {
                hasher.update(data: Data((fields[key] ?? "").utf8))
            }
        }
        return FileDigest.hex(hasher.finalize())
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
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else {
            throw ChannelError.transient("cannot write \(path)")
        }
        self.handle = handle
        self.label = label
        inflater = try Inflater(format: .zlib, maxOutputBytes: maxBytes, label: label)
        pending.reserveCapacity(72 << 10)
    }

    deinit { try? handle.close() }

    func push(_ bytes: UnsafeRawBufferPointer) throws {
        // Usually the value is one unbroken run of base64: taken whole.
        if !bytes.contains(where: { $0 == 13 || $0 == 10 || $0 == UInt8(ascii: " ") }) {
            pending.append(contentsOf: bytes)
            if pending.count >= 64 << 10 { try decode(final: false) }
            return
        }
        for byte in bytes {
            // CR/LF are line wrapping; a '+' turned into ' ' by a form decoder is put back.
            if byte == 13 || byte == 10 { continue }
            pending.append(byte == UInt8(ascii: " ") ? UInt8(ascii: "+") : byte)
            if pending.count >= 64 << 10 { try decode(final: false) }
        }
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
        if let pad = pending[0..<whole].firstIndex(of: UInt8(ascii: "=")),
            pad < whole - 2 || (!final && whole < pending.count)
        {
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

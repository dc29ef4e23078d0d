import Glibc
import Synchronization

/// One glibc `iconv_t`, owned here and closed in `deinit`. A descriptor keeps conversion state
/// and is not thread safe, so every use holds the mutex: that is what makes sharing the box
/// between copies of a parser (and across tasks) safe.
final class IconvConverter: Sendable {
    enum Failure: Error {
        /// An invalid sequence (EILSEQ) or one cut off at the end (EINVAL), at this input offset.
        case invalid(offset: Int, incomplete: Bool)
    }

    /// The raw pointer, `Sendable` so it can live in the mutex: it is only ever used under the lock.
    private struct Descriptor: @unchecked Sendable {
        let pointer: iconv_t
    }

    private let descriptor: Mutex<Descriptor>

    /// Nil when glibc has no converter between the two (a missing gconv module).
    init?(from source: String, to target: String) {
        guard let opened = iconv_open(target, source), opened != iconv_t(bitPattern: -1) else { return nil }
        descriptor = Mutex(Descriptor(pointer: opened))
    }

    deinit {
        descriptor.withLock { _ = iconv_close($0.pointer) }
    }

    /// Converts the whole input, or reports where it stopped being valid.
    func convert(_ input: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        let result: Result<[UInt8], Failure> = descriptor.withLock { descriptor in
            Self.convert(input, with: descriptor.pointer)
        }
        return try result.get()
    }

    private static func convert(_ input: UnsafeRawBufferPointer, with descriptor: iconv_t) -> Result<[UInt8], Failure> {
        guard let base = input.baseAddress, !input.isEmpty else { return .success([]) }
        // Back to the initial state, in case an earlier call stopped half way.
        _ = iconv(descriptor, nil, nil, nil, nil)
        // Two output bytes per input byte covers GBK/GB18030 → UTF-8 (at most 3 for 2) and back.
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(
            mutating: base.assumingMemoryBound(to: CChar.self))
        var inLeft = input.count
        var produced = 0
        while inLeft > 0 {
            let status = output.withUnsafeMutableBytes { raw -> Int in
                var outPointer = raw.baseAddress.map { ($0 + produced).assumingMemoryBound(to: CChar.self) }
                var outLeft = raw.count - produced
                let status = iconv(descriptor, &inPointer, &inLeft, &outPointer, &outLeft)
                produced = raw.count - outLeft
                return status
            }
            if status != -1 { break }
            let offset = input.count - inLeft
            switch errno {
            case E2BIG: output.append(contentsOf: repeatElement(0, count: output.count))
            case EINVAL: return .failure(.invalid(offset: offset, incomplete: true))
            default: return .failure(.invalid(offset: offset, incomplete: false))
            }
        }
        output.removeSubrange(produced...)
        return .success(output)
    }
}

/// Deterministic test inputs.
enum TestData {
    /// About `count` bytes alternating pseudo-random blocks (incompressible) and bill-like text
    /// (very compressible), so both of deflate's paths get exercised.
    static func mixed(count: Int, seed: UInt64 = 42) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var line = 0
        while bytes.count < count {
            for _ in 0..<512 {
                let word = generator.next()
                for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> shift)) }
            }
            for _ in 0..<40 {
                line += 1
                bytes += Array("2026-11-23 09:15:07,B\(100_000_000 + line),R2026112300\(line),,payment,50.00\r\n".utf8)
            }
        }
        return Array(bytes.prefix(count))
    }

    /// Feeds `bytes` to `body` in pieces of `chunk` bytes.
    static func pieces(
        _ bytes: [UInt8], chunk: Int, _ body: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                let end = min(start + chunk, raw.count)
                try body(UnsafeRawBufferPointer(rebasing: raw[start..<end]))
                start = end
            }
        }
    }
}

/// Steele, Lea and Flood's SplitMix64: the same draws on every run and platform.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

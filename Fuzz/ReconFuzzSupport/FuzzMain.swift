import CReconFuzzer
import Foundation

/// A fuzz target's `main`: libFuzzer's loop with `body` as LLVMFuzzerTestOneInput, or, given
/// `--write-seeds=DIR` (libFuzzer ignores flags that start with `--`), the target's seed corpus
/// written to DIR. Refusals (thrown errors) are the parsers' job; only a crash, a trap, a timeout or
/// memory past libFuzzer's limits is a finding. `body` says whether the input was accepted: the
/// seeds named `valid…` must be, or the corpus starts nowhere useful.
public enum FuzzMain {
    /// A seed file: its name in the corpus folder and its bytes.
    public typealias Seed = (name: String, bytes: [UInt8])

    /// Set once, before libFuzzer starts; its C callback cannot capture, so it reads this.
    nonisolated(unsafe) private static var body: (UnsafeRawBufferPointer) -> Bool = { _ in false }

    public static func run(seeds: () throws -> [Seed], body: @escaping (UnsafeRawBufferPointer) -> Bool) -> Never {
        if let folder = CommandLine.arguments.lazy.compactMap({ Self.value(of: "--write-seeds=", in: $0) }).first {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                let made = try seeds()
                for seed in made {
                    try Data(seed.bytes).write(to: URL(fileURLWithPath: folder).appendingPathComponent(seed.name))
                }
                let refused = made.filter { seed in
                    seed.name.hasPrefix("valid") && !seed.bytes.withUnsafeBytes { body($0) }
                }
                print("wrote \(made.count) seeds to \(folder)")
                guard refused.isEmpty else {
                    FileHandle.standardError.write(Data("refused: \(refused.map(\.name))\n".utf8))
                    exit(1)
                }
                exit(0)
            } catch {
                FileHandle.standardError.write(Data("writing seeds to \(folder) failed: \(error)\n".utf8))
                exit(1)
            }
        }
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, count in
            _ = FuzzMain.body(UnsafeRawBufferPointer(start: data, count: count))
            return 0
        }
        exit(status)
    }

    private static func value(of prefix: String, in argument: String) -> String? {
        argument.hasPrefix(prefix) ? String(argument.dropFirst(prefix.count)) : nil
    }
}

import Foundation
public import ReconCore

/// The bill files the mock serves, under `<data>/<channel>/<merchant>/<YYYYMMDD>.<ext>`. A file
/// that is already there is served as given; otherwise one is generated for that merchant and
/// day (deterministically, so a rerun serves the same bytes) with its truth beside it in
/// `<YYYYMMDD>.truth.json`, which tests compare the staged totals with.
public struct MockBillStore: Sendable {
    /// What a generated bill holds, for comparing with what Recon staged.
    public struct Truth: Codable, Sendable, Equatable {
        public var lines: Int64
        public var payments: Int64
        public var refunds: Int64
        public var amountFen: Int64
        public var feeFen: Int64
        /// Σ exact fees in 0.00001 yuan (WeChat writes 5 decimals).
        public var feeUnits: Int64
    }

    public let folder: String
    public let linesPerDay: Int

    public init(folder: String, linesPerDay: Int) {
        self.folder = folder
        self.linesPerDay = linesPerDay
    }

    func path(channel: String, merchant: String, day: LocalDay, ext: String) -> String {
        "\(folder)/\(channel)/\(merchant)/\(Self.compact(day)).\(ext)"
    }

    public static func compact(_ day: LocalDay) -> String {
        day.description.replacingOccurrences(of: "-", with: "")
    }

    /// The file at `path`, made by `generate` (through a temporary name) if it is not there yet.
    func file(at path: String, generate: (_ temporaryPath: String) throws -> Truth?) throws -> String {
        if FileManager.default.fileExists(atPath: path) { return path }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let temporary = path + ".generating-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        if let truth = try generate(temporary) {
            // `<folder>/20261123.csv` and `<folder>/20261123.empty.csv` both have `<folder>/20261123.truth.json`.
            let folder = (path as NSString).deletingLastPathComponent
            let day = (path as NSString).lastPathComponent.prefix { $0 != "." }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            try encoder.encode(truth).write(to: URL(fileURLWithPath: "\(folder)/\(day).truth.json"), options: .atomic)
        }
        if rename(temporary, path) != 0, !FileManager.default.fileExists(atPath: path) {
            throw CocoaError(.fileWriteUnknown)
        }
        return path
    }

    /// The truth written beside a generated bill.
    public static func truth(folder: String, channel: String, merchant: String, day: LocalDay) throws -> Truth {
        let data = try Data(
            contentsOf: URL(fileURLWithPath: "\(folder)/\(channel)/\(merchant)/\(compact(day)).truth.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Truth.self, from: data)
    }
}

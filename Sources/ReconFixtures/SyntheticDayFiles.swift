import Foundation
import ReconCore

extension SyntheticDay {
    /// Where `recon mock-channel --data <dataFolder>` looks for a channel's bill of this day, and
    /// serves a file it finds there as given: alipay `<data>/alipay/<appID>/<YYYYMMDD>.details.csv`
    /// (and `.summary.csv`), wechatpay `<data>/wechatpay/<mchid>/<YYYYMMDD>.csv`, unionpay
    /// `<data>/unionpay/<merId>/<YYYYMMDD>.zm`, bank `<data>/bank/<merchant>/<YYYYMMDD>.csv`.
    public func billPath(dataFolder: String, channel index: Int, part: SyntheticBillPart = .bill) -> String {
        let channel = channels[index]
        let ext: String
        switch (channel.adapter, part) {
        case (.alipay, .bill): ext = "details.csv"
        case (.alipay, .alipaySummary): ext = "summary.csv"
        case (.unionpay, _): ext = "zm"
        default: ext = "csv"
        }
        return "\(channelFolder(dataFolder: dataFolder, channel: index))/\(compactDay).\(ext)"
    }

    func channelFolder(dataFolder: String, channel index: Int) -> String {
        "\(dataFolder)/\(channels[index].dataFolder)/\(channels[index].merchant)"
    }

    var compactDay: String { day.description.filter { $0 != "-" } }

    /// Writes the day's files: each channel's bill where the mock serves it (first removing what
    /// the mock made of an earlier file of that day: packings, answers, truth), Alipay's
    /// `partner_id` beside its bills, the payments and ledger files at the paths given, and, if
    /// `expectedPath` is given, the expected results as CSV (`ExpectedResult.csvHeader`).
    @discardableResult
    public func writeFiles(
        dataFolder: String, paymentsPath: String, ledgerPath: String, expectedPath: String? = nil,
        prior: Prior = .none
    ) throws -> SyntheticDaySummary {
        let files = FileSet()
        defer { files.closeAll() }
        for index in channels.indices {
            let folder = channelFolder(dataFolder: dataFolder, channel: index)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: folder)
            where name.hasPrefix(compactDay + ".") {
                try FileManager.default.removeItem(atPath: "\(folder)/\(name)")
            }
            if let partnerID = channels[index].partnerID, channels[index].adapter == .alipay {
                try Data((partnerID + "\n").utf8).write(to: URL(fileURLWithPath: "\(folder)/partner_id"))
            }
        }
        let payments = try files.open(paymentsPath)
        let ledger = try files.open(ledgerPath)
        let expected = try expectedPath.map { try files.open($0) }
        if let expected { try expected.write(contentsOf: Data((ExpectedResult.csvHeader + "\n").utf8)) }
        var pending: [UInt8] = []
        let summary = try write(
            prior: prior,
            bill: { index, part in
                let handle = try files.open(billPath(dataFolder: dataFolder, channel: index, part: part))
                return { try handle.write(contentsOf: $0) }
            },
            payments: { try payments.write(contentsOf: $0) }, ledger: { try ledger.write(contentsOf: $0) },
            expected: { result in
                guard let expected else { return }
                pending += (result.csvLine + "\n").utf8
                if pending.count >= 1 << 16 {
                    try expected.write(contentsOf: pending)
                    pending.removeAll(keepingCapacity: true)
                }
            })
        if let expected, !pending.isEmpty { try expected.write(contentsOf: pending) }
        return summary
    }
}

/// The files one `writeFiles` has open, closed together at the end.
private final class FileSet {
    private var handles: [FileHandle] = []

    func open(_ path: String) throws -> FileHandle {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        handles.append(handle)
        return handle
    }

    func closeAll() {
        for handle in handles { try? handle.close() }
        handles.removeAll()
    }
}

import ReconMatching

/// The names the summaries carry: channels, and the virtual assets (`pre_deposit`, `points`,
/// `data_traffic`) in the same column. Pages list channels first, then assets, each by name.
enum ChannelNames {
    static func isAsset(_ name: String) -> Bool { LegKind(rawValue: name)?.isVirtual ?? false }

    static func ordered(_ names: some Sequence<String>) -> [String] {
        Set(names).sorted { (isAsset($0) ? 1 : 0, $0) < (isAsset($1) ? 1 : 0, $1) }
    }

    /// An id for HTML from a channel's name.
    static func anchor(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
    }
}

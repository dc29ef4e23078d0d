/// A TOML table: keys in the order they were first written, each with its node.
///
/// Order is kept so that things defined in a file (jobs, channels) are listed and processed in
/// the order the operator wrote them, not in hash order that changes from run to run.
public struct TOMLTable: Sendable, Equatable {
    /// The keys in definition order.
    public private(set) var keys: [String]
    private var nodes: [String: TOMLNode]

    public init() {
        keys = []
        nodes = [:]
    }

    public subscript(key: String) -> TOMLNode? {
        nodes[key]
    }

    public var count: Int { keys.count }

    public var isEmpty: Bool { keys.isEmpty }

    /// The entries in definition order.
    public var entries: [(key: String, node: TOMLNode)] {
        keys.compactMap { key in nodes[key].map { (key, $0) } }
    }

    /// Adds or replaces `key`; the parser has already rejected duplicates.
    public mutating func set(_ key: String, _ node: TOMLNode) {
        if nodes.updateValue(node, forKey: key) == nil {
            keys.append(key)
        }
    }
}

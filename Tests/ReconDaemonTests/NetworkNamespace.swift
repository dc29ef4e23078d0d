import Foundation

/// A host of its own for one worker: a network namespace joined to this one by a veth pair, so
/// the worker inside reaches the coordinator and PostgreSQL only over that link, and cutting the
/// link cuts it off as a network fault would. Needs root and iproute2.
struct NetworkNamespace {
    let name: String
    /// This side's address (where the coordinator and PostgreSQL listen for the worker).
    let hostAddress: String
    /// The worker's address inside the namespace.
    let workerAddress: String
    private let hostLink: String
    private let workerLink: String

    static let ip = "/usr/sbin/ip"

    /// Whether namespaces can be made here: a throwaway one is made and removed.
    static let available: Bool = {
        let probe = "recon-probe-\(getpid())"
        guard runSystemTool(ip, ["netns", "add", probe]) == 0 else { return false }
        _ = runSystemTool(ip, ["netns", "del", probe])
        return true
    }()

    /// A namespace and its link, up, named for this process; nil (and nothing left behind) if a
    /// step fails.
    static func make() -> NetworkNamespace? {
        let tag = Int(getpid()) % 10_000
        let subnet = "10.201.\(tag % 250)"
        let namespace = NetworkNamespace(
            name: "recon-trial-\(tag)", hostAddress: "\(subnet).1", workerAddress: "\(subnet).2",
            hostLink: "rth\(tag)", workerLink: "rtw\(tag)")
        namespace.remove()  // a leftover of a crashed run of the same pid
        let steps: [[String]] = [
            ["netns", "add", namespace.name],
            ["link", "add", namespace.hostLink, "type", "veth", "peer", "name", namespace.workerLink],
            ["link", "set", namespace.workerLink, "netns", namespace.name],
            ["addr", "add", "\(namespace.hostAddress)/30", "dev", namespace.hostLink],
            ["link", "set", namespace.hostLink, "up"],
            ["-n", namespace.name, "addr", "add", "\(namespace.workerAddress)/30", "dev", namespace.workerLink],
            ["-n", namespace.name, "link", "set", namespace.workerLink, "up"],
            ["-n", namespace.name, "link", "set", "lo", "up"],
        ]
        for step in steps where runSystemTool(ip, step) != 0 {
            namespace.remove()
            return nil
        }
        return namespace
    }

    /// The command prefix that runs a program inside the namespace.
    var launcher: [String] { [Self.ip, "netns", "exec", name] }

    /// The worker's side of the link goes down: packets stop both ways, connections stay open.
    func cut() -> Bool { runSystemTool(Self.ip, ["-n", name, "link", "set", workerLink, "down"]) == 0 }

    func restore() -> Bool { runSystemTool(Self.ip, ["-n", name, "link", "set", workerLink, "up"]) == 0 }

    /// Removes the namespace (its veth end with it, and so the pair).
    func remove() {
        _ = runSystemTool(Self.ip, ["netns", "del", name])
        _ = runSystemTool(Self.ip, ["link", "del", hostLink])
    }
}

import Crypto
import Foundation

/// UnionPay ACP 5.1.0 signing (CHANNELS.md §3.1): the sorted `k=v&…` of every field except
/// `signature`, its SHA-256 as lowercase hex, and that hex text signed SHA256withRSA, base64.
public enum UnionPaySignature {
    public static func content(_ fields: [String: String]) -> String {
        signedKeys(fields.keys).map { "\($0)=\(fields[$0] ?? "")" }.joined(separator: "&")
    }

    /// The keys the signature covers, in the order they are signed: all but `signature`, by bytes.
    static func signedKeys(_ keys: some Sequence<String>) -> [String] {
        keys.filter { $0 != "signature" }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public static func sign(_ fields: [String: String], with signer: RSASigner) throws -> String {
        try signer.sign(digestHex(content(fields)))
    }

    public static func digestHex(_ text: String) -> String {
        FileDigest.hex(SHA256.hash(data: Data(text.utf8)))
    }
}

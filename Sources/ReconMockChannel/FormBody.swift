import Foundation
import Hummingbird
import ReconCore

/// `application/x-www-form-urlencoded` text, as the Alipay gateway and UnionPay take it in a body
/// and the Alipay gateway in a query string too.
enum FormBody {
    static func parse(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return decode(String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func decode(_ text: String) -> [String: String] { FormURLEncoding.decode(text) }
}

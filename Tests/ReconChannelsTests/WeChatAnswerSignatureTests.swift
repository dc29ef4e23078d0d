import Foundation
import ReconCalendar
import ReconChannels
import ReconCore
import ReconMockChannel
import Testing
import _CryptoExtras

/// The WeChat Pay adapter verifies an answer only as `WECHATPAY2-SHA256-RSA2048`: an answer whose
/// `Wechatpay-Signature-Type` is missing or names another scheme is refused for good, as is one
/// whose signature does not verify; the mock's `bad_signature` fault makes each (argument 1, 2, 0).
@Suite struct WeChatAnswerSignatureTests {
    static func day(_ number: Int) -> LocalDay {
        LocalDay(dayNumber: CivilCalendar.dayNumber(year: 2026, month: 11, day: number))
    }

    @Test func answersWithoutTheRSASignatureTypeOrWithABadSignatureArePermanentErrors() async throws {
        let faults = [
            Fault(channel: "wechatpay", date: "2026-11-02", kind: .badSignature, times: 0, argument: 1),
            Fault(channel: "wechatpay", date: "2026-11-03", kind: .badSignature, times: 0, argument: 2),
            Fault(channel: "wechatpay", date: "2026-11-04", kind: .badSignature, times: 0),
        ]
        try await withMockChannel(lines: 20, faults: faults) { mock in
            let keyPath = mock.folder + "/merchant.pem"
            try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation.write(
                toFile: keyPath, atomically: true, encoding: .utf8)
            let channel = try mock.wechatChannel(merchant: "1900000001", privateKey: keyPath)
            let adapter = ChannelAdapters.make(for: channel)

            // The clean day goes through: the mock names the type, and the signature verifies.
            guard case .ready(let bill) = try await adapter.fetch(mock.session(channel, day: Self.day(1))) else {
                Issue.record("the fault-free day was not ready")
                return
            }
            #expect(bill.bytes > 0)

            let expected = [
                (2, "Wechatpay-Signature-Type is missing, expected WECHATPAY2-SHA256-RSA2048"),
                (3, "Wechatpay-Signature-Type is 'WECHATPAY2-SM2-WITH-SM3', expected WECHATPAY2-SHA256-RSA2048"),
                (4, "Wechatpay-Signature does not verify with the platform key"),
            ]
            for (number, words) in expected {
                do {
                    _ = try await adapter.fetch(mock.session(channel, day: Self.day(number)))
                    Issue.record("2026-11-0\(number): a tampered answer was taken")
                } catch let error as ChannelError {
                    guard case .permanent(let message) = error else {
                        Issue.record("2026-11-0\(number): not permanent: \(error)")
                        continue
                    }
                    #expect(message.contains(words), "\(message)")
                    #expect(message.contains("WeChat Pay trade bill for 2026-11-0\(number)"), "\(message)")
                }
            }
        }
    }
}

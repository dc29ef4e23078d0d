import Foundation
import ReconHTTP
import Testing

@testable import ReconChannels

/// One row of a channel's classification table: an answer (status, headers, body) and the class
/// CHANNELS.md §5 gives it, with words its message must hold (the channel's own code and message).
struct AnswerRow: Sendable, CustomTestStringConvertible {
    let name: String
    let status: Int?
    let headers: HTTPHeaders
    let body: String
    let kind: AnswerKind
    let words: [String]
    /// Text the message must not hold (a signature, the raw answer).
    let absent: [String]
    let retryAfter: Duration?

    init(
        _ name: String, _ status: Int?, headers: HTTPHeaders = [:], _ kind: AnswerKind, words: [String] = [],
        retryAfter: Duration? = nil
    ) {
        self.init(name, status, "", headers: headers, kind, words: words, retryAfter: retryAfter)
    }

    init(
        _ name: String, _ status: Int?, _ body: String, headers: HTTPHeaders = [:], _ kind: AnswerKind,
        words: [String] = [], absent: [String] = [], retryAfter: Duration? = nil
    ) {
        self.absent = absent
        self.name = name
        self.status = status
        self.headers = headers
        self.body = body
        self.kind = kind
        self.words = words
        self.retryAfter = retryAfter
    }

    var testDescription: String { name }

    var answer: ChannelAnswer { ChannelAnswer(status: status, headers: headers, body: Data(body.utf8)) }

    /// Checks that `verdict` is this row's class, with its words and its Retry-After.
    func check<Ready>(_ verdict: AnswerClass<Ready>, sourceLocation: SourceLocation = #_sourceLocation) {
        let message = verdict.message ?? "(ready)"
        #expect(verdict.kind == kind, "\(name): \(message)", sourceLocation: sourceLocation)
        for word in words {
            #expect(message.contains(word), "\(name): \"\(word)\" not in \(message)", sourceLocation: sourceLocation)
        }
        for word in absent {
            #expect(!message.contains(word), "\(name): \"\(word)\" in \(message)", sourceLocation: sourceLocation)
        }
        #expect(verdict.retryAfter == retryAfter, "\(name): Retry-After", sourceLocation: sourceLocation)
    }
}

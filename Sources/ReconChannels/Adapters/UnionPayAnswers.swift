/// How UnionPay's file-transfer answers are classified (CHANNELS.md §3.1 and §5), as pure
/// functions of what came back: the adapter calls them between its network calls and keeps only
/// the I/O (the POST, reading the answer file, verifying it).
extension UnionPayAdapter {
    /// The HTTP answer itself: a 2xx went to the answer file and is read next; 5xx and 429 are
    /// transient, anything else permanent.
    static func classifyTransfer(_ answer: ChannelAnswer, what: String) -> AnswerClass<Void> {
        if answer.isSuccess { return .ready(()) }
        if let failure = answer.statusFailure(what, detail: answer.bodySnippet) { return .failed(failure) }
        return .failed(.permanent("\(what): HTTP \(answer.status ?? 0): \(answer.bodySnippet)"))
    }

    /// An answer whose `fileContent` did not decode: the fields still say what the channel meant,
    /// so a 98 or 11 with an odd fileContent goes on to be classified by its respCode (nil here).
    /// Only a 00 (or no respCode at all) is refused, and retried, so it needs no verifying; an
    /// answer not read whole cannot be verified, so it is retried too when answers are verified.
    static func classifyUndecodable(
        respCode: String?, reason: String, wholeAnswer: Bool, verifying: Bool, what: String
    ) -> ChannelError? {
        guard respCode != "00", respCode != nil else {
            return .transient("\(what): the answer's file does not decode: \(reason); not staged")
        }
        if verifying, !wholeAnswer {
            return .transient("\(what): the answer could not be read whole: \(reason); not verified")
        }
        return nil
    }

    /// The answer's fields once read (and verified where configured): respCode by CHANNELS.md
    /// §3.1's table, then the file must be there and be for the settleDate asked for. "99 or
    /// other" is transient for 3 attempts, then permanent.
    static func classify(
        fields: [String: String], hadFile: Bool, settleDate: String, attempt: Int, what: String
    ) -> AnswerClass<Void> {
        let code = fields["respCode"] ?? "-"
        let detail = "respCode \(code) \(fields["respMsg"] ?? "")"
        switch code {
        case "00":
            break
        case "98":
            return .noBill("\(what): \(detail)")
        case "03", "04", "05", "06":
            return .failed(.transient("\(what): \(detail)"))
        case "10", "11", "13", "32":
            return .failed(.permanent("\(what): \(detail)"))
        default:
            if attempt >= 3 { return .failed(.permanent("\(what): \(detail), 3 attempts")) }
            return .failed(.transient("\(what): \(detail)"))
        }
        guard hadFile else { return .failed(.transient("\(what): respCode 00 without fileContent")) }
        if let answered = fields["settleDate"], answered != settleDate {
            return .failed(.permanent("\(what): asked for settleDate \(settleDate), the answer is for \(answered)"))
        }
        return .ready(())
    }
}

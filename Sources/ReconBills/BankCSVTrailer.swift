import Foundation

/// The pattern of a bank file's last line, with named groups `count`, `sum` and `fee` (each
/// optional; the ones present are checked). Matched against the line's fields joined by the
/// delimiter, so a trailer written with quotes matches as if it had none.
public struct BankCSVTrailer: Sendable, Equatable {
    public let pattern: String
    /// NSRegularExpression rather than `Regex`: it is immutable, thread safe and `Sendable`.
    let regex: NSRegularExpression?
    let groups: Set<String>
    /// The literal text every match starts with (`#TOTAL,`), so that data lines skip the regex.
    let literalPrefix: String

    public static let allowedGroups: Set<String> = ["count", "sum", "fee"]

    public static let standard: BankCSVTrailer = {
        // The default pattern is valid; the fallback (matching nothing) only satisfies the type checker.
        (try? BankCSVTrailer(BankCSVProfile.defaultTrailerPattern))
            ?? BankCSVTrailer(
                pattern: BankCSVProfile.defaultTrailerPattern, regex: nil, groups: [], literalPrefix: "#TOTAL")
    }()

    private init(pattern: String, regex: NSRegularExpression?, groups: Set<String>, literalPrefix: String) {
        self.pattern = pattern
        self.regex = regex
        self.groups = groups
        self.literalPrefix = literalPrefix
    }

    public init(_ pattern: String) throws(BankCSVProfile.Problem) {
        func refuse(_ message: String) -> BankCSVProfile.Problem {
            BankCSVProfile.Problem(key: "trailer", message: message)
        }
        do {
            regex = try NSRegularExpression(pattern: pattern)
        } catch {
            throw refuse("\"\(pattern)\" is not a valid regular expression: \(error)")
        }
        groups = Self.namedGroups(pattern)
        if let unknown = groups.subtracting(Self.allowedGroups).sorted().first {
            throw refuse("the group (?<\(unknown)>…) is not one of count, sum, fee")
        }
        if groups.isEmpty { throw refuse("\"\(pattern)\" has none of the named groups count, sum, fee") }
        self.pattern = pattern
        literalPrefix = Self.literalPrefix(pattern)
    }

    public static func == (lhs: BankCSVTrailer, rhs: BankCSVTrailer) -> Bool { lhs.pattern == rhs.pattern }

    /// The named groups' texts if `line` is a trailer.
    func match(_ line: String) -> [String: String]? {
        guard line.hasPrefix(literalPrefix), let regex else { return nil }
        let whole = NSRange(line.startIndex..<line.endIndex, in: line)
        guard let match = regex.firstMatch(in: line, options: [.anchored], range: whole), match.range == whole else {
            return nil
        }
        var values: [String: String] = [:]
        for name in groups {
            if let range = Range(match.range(withName: name), in: line) { values[name] = String(line[range]) }
        }
        return values
    }

    /// `(?<name>` and `(?P<name>` in the pattern text (lookbehinds `(?<=`, `(?<!` excluded).
    static func namedGroups(_ pattern: String) -> Set<String> {
        var names: Set<String> = []
        for opener in ["(?<", "(?P<"] {
            var rest = Substring(pattern)
            while let start = rest.firstRange(of: opener) {
                rest = rest[start.upperBound...]
                guard let first = rest.first, first != "=", first != "!", let end = rest.firstIndex(of: ">") else {
                    continue
                }
                names.insert(String(rest[..<end]))
            }
        }
        return names
    }

    /// The literal characters after a leading `^`, up to the first regex metacharacter; none if
    /// the pattern has an alternation anywhere (another branch need not start with them).
    static func literalPrefix(_ pattern: String) -> String {
        guard pattern.hasPrefix("^"), !pattern.contains("|") else { return "" }
        var prefix = ""
        for character in pattern.dropFirst() {
            if "\\.[](){}?*+|^$".contains(character) { break }
            prefix.append(character)
        }
        // A quantifier applies to the character before it, which is then not certain to appear.
        if let next = pattern.dropFirst(prefix.count + 1).first, "?*{".contains(next), !prefix.isEmpty {
            prefix.removeLast()
        }
        return prefix
    }
}

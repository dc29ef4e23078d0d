/// CSV fields for the files Recon writes (reports, settlements), RFC 4180 quoting. A text field
/// that a spreadsheet would read as a formula (it begins with `=`, `+`, `-` or `@`) gets a
/// leading `'`; amounts are written by the caller as plain numbers and never pass through here.
public enum CSVText {
    public static func field(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        if let first = text.unicodeScalars.first, "=+-@".unicodeScalars.contains(first) { scalars.append("'") }
        var needsQuotes = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"":
                needsQuotes = true
                scalars.append("\"")
            case ",", "\n", "\r": needsQuotes = true
            default: break
            }
            scalars.append(scalar)
        }
        let value = String(scalars)
        return needsQuotes ? "\"" + value + "\"" : value
    }
}

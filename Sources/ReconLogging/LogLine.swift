import ReconCore

/// How a log line is written: `logfmt` (`key=value` pairs, the default, easy to read and to grep)
/// or `json` (one object per line, for log shippers).
public enum LogFormat: String, Sendable, CaseIterable {
    case logfmt
    case json
}

/// One event's fields rendered as one line. Fields keep their order: the handler puts `ts`,
/// `level`, `logger` and `msg` first, then the metadata by key. Every value is text; a line never
/// holds a raw newline, so one event is always one line.
public enum LogLine {
    public static func render(_ fields: [(key: String, value: String)], as format: LogFormat) -> String {
        switch format {
        case .logfmt: return logfmt(fields)
        case .json: return json(fields)
        }
    }

    /// `key=value key="value with spaces"`. Values are quoted when empty or when they hold a space,
    /// `=`, `"`, a backslash or a control character; inside quotes `"` and `\` are escaped and
    /// control characters written as `\n`, `\t`, `\r` or `\u00XX`.
    public static func logfmt(_ fields: [(key: String, value: String)]) -> String {
        var line = ""
        for (index, field) in fields.enumerated() {
            if index > 0 { line += " " }
            line += logfmtKey(field.key)
            line += "="
            line += logfmtValue(field.value)
        }
        return line
    }

    /// Keys are ours, but a key with a space, `=` or `"` would break the pairs: such characters
    /// become `_`.
    static func logfmtKey(_ key: String) -> String {
        guard !key.isEmpty else { return "_" }
        var out = ""
        for scalar in key.unicodeScalars {
            switch scalar {
            case " ", "=", "\"", "\\": out += "_"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: out += "_"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func logfmtValue(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.unicodeScalars.contains {
                $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F
            }
        guard needsQuotes else { return value }
        return "\"" + escaped(value) + "\""
    }

    /// `{"key":"value",…}`, every value a JSON string.
    public static func json(_ fields: [(key: String, value: String)]) -> String {
        var line = "{"
        for (index, field) in fields.enumerated() {
            if index > 0 { line += "," }
            line += "\"" + escaped(field.key) + "\":\"" + escaped(field.value) + "\""
        }
        return line + "}"
    }

    /// JSON string escaping, which logfmt's quoted values share.
    static func escaped(_ text: String) -> String { JSONText.escaped(text) }
}

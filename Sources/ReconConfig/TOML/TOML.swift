/// Entry point of the TOML reader for job and channel files (`jobs/*.toml`).
///
/// A faithful subset of TOML 1.0: everything a config file needs (tables, arrays of tables,
/// dotted keys, all four string forms, integers, floats, booleans, arrays, inline tables) and
/// TOML's rules against defining a key or table twice. Date-time values are rejected with a
/// clear message. Every value keeps its line and column for later messages.
public enum TOML {
    /// Parses a whole document. `file` is used only in error messages.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(text: text, file: file)
        return try parser.parseDocument()
    }
}

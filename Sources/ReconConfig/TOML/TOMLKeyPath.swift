/// Spelling of key paths in messages, the way they would be written in the file: bare where a
/// bare key is allowed, quoted otherwise (`channel."bank of x".url`), array elements by index.
enum TOMLKeyPath {
    static func isBareKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// One key as TOML source.
    static func quoted(_ key: String) -> String {
        if !key.isEmpty && key.utf8.allSatisfy(isBareKeyByte) {
            return key
        }
        var result = "\""
        for scalar in key.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// `path.key`, or just `key` at the root (whose path is empty).
    static func appending(_ key: String, to path: String) -> String {
        path.isEmpty ? quoted(key) : "\(path).\(quoted(key))"
    }

    /// `path[index]`, for elements of arrays (of tables).
    static func element(_ index: Int, of path: String) -> String {
        "\(path)[\(index)]"
    }
}

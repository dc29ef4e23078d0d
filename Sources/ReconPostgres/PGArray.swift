/// A one-dimensional array parameter (`text[]`, `int8[]`, `jsonb[]`, …), sent in PostgreSQL's
/// text array syntax. Lets one statement take a whole batch through `unnest($1::int8[], …)`.
public struct PGArray<Element: PGEncodable>: PGEncodable {
    public var elements: [Element]
    public init(_ elements: [Element]) { self.elements = elements }

    public var pgParameter: PGParameter {
        var text: [UInt8] = [UInt8(ascii: "{")]
        var elementOid = PGOid.unspecified
        for (index, element) in elements.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ",")) }
            let parameter = element.pgParameter
            if parameter.oid != .unspecified { elementOid = parameter.oid }
            guard let bytes = parameter.bytes, !parameter.isBinary else {
                // NULL (binary elements are not supported in text arrays and go as NULL too; none of
                // the element types used with arrays is binary).
                text.append(contentsOf: Array("NULL".utf8))
                continue
            }
            // Every element quoted, with backslash and double quote escaped.
            text.append(UInt8(ascii: "\""))
            for byte in bytes {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { text.append(UInt8(ascii: "\\")) }
                text.append(byte)
            }
            text.append(UInt8(ascii: "\""))
        }
        text.append(UInt8(ascii: "}"))
        return PGParameter(oid: PGArray.arrayOid(of: elementOid), bytes: text)
    }

    /// The array type of an element type; unspecified lets the server infer it from a cast.
    static func arrayOid(of element: PGOid) -> PGOid {
        switch element {
        case .int8: return PGOid(rawValue: 1016)
        case .int4: return PGOid(rawValue: 1007)
        case .int2: return PGOid(rawValue: 1005)
        case .text: return PGOid(rawValue: 1009)
        case .bool: return PGOid(rawValue: 1000)
        case .jsonb: return PGOid(rawValue: 3807)
        case .timestamptz: return PGOid(rawValue: 1185)
        case .date: return PGOid(rawValue: 1182)
        case .numeric: return PGOid(rawValue: 1231)
        default: return .unspecified
        }
    }
}

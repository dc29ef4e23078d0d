/// Equal length and equal bytes, looking at every byte whatever the first difference: for
/// secrets (the API token, a session's mac), so that they cannot be guessed byte by byte from
/// response times.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
    for index in 0..<max(a.count, b.count) {
        let left = index < a.count ? a[index] : 0
        let right = index < b.count ? b[index] : 0
        difference |= left ^ right
    }
    return difference == 0 && a.count == b.count
}

public import HTTPTypes

/// The channels' own header names. Each literal is a valid token, so the failable initializer
/// cannot fail; spelling them once keeps the force unwraps in this one reviewed place.
extension HTTPField.Name {
    // swift-format-ignore: NeverForceUnwrap
    static let apiKey = HTTPField.Name("X-Api-Key")!
    // swift-format-ignore: NeverForceUnwrap
    static let wechatpayTimestamp = HTTPField.Name("Wechatpay-Timestamp")!
    // swift-format-ignore: NeverForceUnwrap
    static let wechatpayNonce = HTTPField.Name("Wechatpay-Nonce")!
    // swift-format-ignore: NeverForceUnwrap
    static let wechatpaySerial = HTTPField.Name("Wechatpay-Serial")!
    // swift-format-ignore: NeverForceUnwrap
    static let wechatpaySignature = HTTPField.Name("Wechatpay-Signature")!
    // swift-format-ignore: NeverForceUnwrap
    static let wechatpaySignatureType = HTTPField.Name("Wechatpay-Signature-Type")!
}

// Slack's request signing (v0): `X-Slack-Signature: v0=<hex HMAC-SHA256 of
// "v0:<X-Slack-Request-Timestamp>:<raw body>" keyed with the app's signing secret>`. The notifier
// verifies Slack's interaction requests with it; the Slack stand-in signs its own the same way.
import Crypto
import Foundation

public enum SlackSignature {
    public static let signatureHeader = "X-Slack-Signature"
    public static let timestampHeader = "X-Slack-Request-Timestamp"
    /// Slack's advice: refuse requests whose timestamp is more than five minutes off, so a
    /// recorded request cannot be replayed later.
    public static let maxAgeSeconds: Int64 = 300

    /// Why a request was refused; the raw value is a metric label.
    public enum Refusal: String, Sendable, Error, CaseIterable {
        case unsigned
        case stale
        case forged
    }

    /// `v0=<hex>` for `body` sent at `timestamp` (seconds since 1970).
    public static func sign(body: some Sequence<UInt8>, timestamp: Int64, secret: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(
            for: Array(base(timestamp: String(timestamp), body: body)), using: SymmetricKey(data: Array(secret.utf8)))
        return "v0=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// Checks a request's signature headers against `body` in constant time; `now` in seconds
    /// since 1970.
    public static func verify(
        body: some Sequence<UInt8>, timestamp: String?, signature: String?, secret: String, now: Int64
    ) throws(Refusal) {
        guard let timestamp, let signature, let sent = Int64(timestamp), signature.hasPrefix("v0=") else {
            throw .unsigned
        }
        guard abs(now - sent) <= maxAgeSeconds else { throw .stale }
        guard let code = hexBytes(signature.dropFirst(3)), code.count == SHA256.byteCount else { throw .forged }
        let valid = HMAC<SHA256>.isValidAuthenticationCode(
            code, authenticating: Array(base(timestamp: timestamp, body: body)),
            using: SymmetricKey(data: Array(secret.utf8)))
        guard valid else { throw .forged }
    }

    private static func base(timestamp: String, body: some Sequence<UInt8>) -> [UInt8] {
        Array("v0:\(timestamp):".utf8) + Array(body)
    }

    private static func hexBytes(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

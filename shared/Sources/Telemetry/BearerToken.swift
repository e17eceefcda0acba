// Checks `Authorization: Bearer <token>` for routes that require a shared secret, in
// constant time, so neither the answer's content nor its timing reveals the token.
public struct BearerToken: Sendable {
    private let expected: [UInt8]

    public init(_ token: String) {
        expected = Array("Bearer \(token)".utf8)
    }

    /// True when the `Authorization` header carries exactly this token.
    public func accepts(authorization header: String?) -> Bool {
        let given = Array((header ?? "").utf8)
        // Compares every byte without stopping at the first difference.
        var difference = UInt8(given.count == expected.count ? 0 : 1)
        for index in 0..<max(given.count, expected.count) {
            difference |= (index < given.count ? given[index] : 0) ^ (index < expected.count ? expected[index] : 0)
        }
        return difference == 0
    }
}

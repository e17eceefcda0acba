// Unique event ids, so consumers can drop duplicates of an at-least-once delivery.

public enum EventID {
    /// A random (version 4) UUID in lower case, e.g. `0b5e1c2a-6d1f-4c4e-9a57-3f2d8e0c1b7a`.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        var high: UInt64 = rng.next()
        var low: UInt64 = rng.next()
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000  // RFC 4122 variant
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let hex: StaticString = "0123456789abcdef"
            var position = 0
            func put(_ value: UInt64, nibbles: Int, from shift: Int) {
                for k in 0..<nibbles {
                    let nibble = Int(value >> UInt64(shift - 4 * k) & 0xF)
                    buffer[position] = hex.utf8Start[nibble]
                    position += 1
                }
            }
            func dash() {
                buffer[position] = UInt8(ascii: "-")
                position += 1
            }
            put(high, nibbles: 8, from: 60)
            dash()
            put(high, nibbles: 4, from: 28)
            dash()
            put(high, nibbles: 4, from: 12)
            dash()
            put(low, nibbles: 4, from: 60)
            dash()
            put(low, nibbles: 12, from: 44)
            return 36
        }
    }
}

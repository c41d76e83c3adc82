/// A read-only hash table from byte strings to token ids.
///
/// The tokenizers look up slices of the input ("does this run of bytes form a token?") millions
/// of times; keying a `Dictionary` by `String` would allocate on every probe. Here all keys live
/// in one byte buffer and a probe hashes the slice in place.
struct ByteStringTable: Sendable {
    private var keyBytes: [UInt8] = []
    private var keyStart: [Int32] = []    // per entry: offset of its key in keyBytes
    private var keyLength: [Int32] = []
    private var values: [Int32] = []
    private var slots: [Int32] = []       // entry index + 1; 0 = empty
    private var mask = 0

    /// Builds the table; for a key given twice, the first value wins.
    init<S: Sequence>(_ entries: S) where S.Element == ([UInt8], Int32) {
        for (key, value) in entries {
            keyStart.append(Int32(keyBytes.count))
            keyLength.append(Int32(key.count))
            keyBytes.append(contentsOf: key)
            values.append(value)
        }
        var capacity = 16
        while capacity < values.count * 2 { capacity <<= 1 }
        mask = capacity - 1
        slots = [Int32](repeating: 0, count: capacity)
        keyBytes.withUnsafeBufferPointer { all in
            for entry in 0..<values.count {
                let key = UnsafeBufferPointer(rebasing: all[Int(keyStart[entry])..<Int(keyStart[entry] + keyLength[entry])])
                var slot = Self.hash(UnsafeRawBufferPointer(key)) & mask
                var duplicate = false
                while slots[slot] != 0 {
                    if equalKey(Int(slots[slot]) - 1, UnsafeRawBufferPointer(key), all) { duplicate = true; break }
                    slot = (slot + 1) & mask
                }
                if !duplicate { slots[slot] = Int32(entry + 1) }
            }
        }
    }

    var count: Int { values.count }

    /// The value stored for these bytes, or nil.
    func lookup(_ key: UnsafeRawBufferPointer) -> Int32? {
        keyBytes.withUnsafeBufferPointer { all in
            var slot = Self.hash(key) & mask
            while true {
                let entry = Int(slots[slot])
                if entry == 0 { return nil }
                if equalKey(entry - 1, key, all) { return values[entry - 1] }
                slot = (slot + 1) & mask
            }
        }
    }

    func lookup(_ key: [UInt8]) -> Int32? {
        key.withUnsafeBytes { lookup($0) }
    }

    private func equalKey(_ entry: Int, _ key: UnsafeRawBufferPointer, _ all: UnsafeBufferPointer<UInt8>) -> Bool {
        let length = Int(keyLength[entry])
        guard length == key.count else { return false }
        let start = Int(keyStart[entry])
        for i in 0..<length where all[start + i] != key[i] { return false }
        return true
    }

    /// FNV-1a, then a final mix so that the low bits used for the slot depend on every byte.
    @inline(__always)
    private static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        h ^= h >> 29
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }
}

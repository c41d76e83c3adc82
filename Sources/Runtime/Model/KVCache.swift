/// Keys and values of every past position, per layer, allocated once for the whole context.
///
/// Layout per layer: `capacity` rows of `kvDim` floats (all kv heads of one position together),
/// so a new token appends one row and attention reads a head as a strided matrix.
public final class KVCache: @unchecked Sendable {
    public let capacity: Int
    public let kvDim: Int
    /// Positions currently held (the next token goes at this position).
    public private(set) var count = 0
    private var keys: [UnsafeMutablePointer<Float>]
    private var values: [UnsafeMutablePointer<Float>]

    public init(layers: Int, capacity: Int, kvDim: Int) {
        self.capacity = capacity
        self.kvDim = kvDim
        keys = (0..<layers).map { _ in .allocate(capacity: capacity * kvDim) }
        values = (0..<layers).map { _ in .allocate(capacity: capacity * kvDim) }
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys[layer] }
    public func values(layer: Int) -> UnsafeMutablePointer<Float> { values[layer] }

    /// Marks `n` more positions as filled (after every layer has written them).
    func advance(by n: Int) {
        precondition(count + n <= capacity, "KV cache overflow: caller must check capacity")
        count += n
    }

    /// Forgets everything from position `n` on (a new conversation, or a rewind).
    public func trim(to n: Int) { count = min(count, max(0, n)) }
    public func reset() { count = 0 }
}

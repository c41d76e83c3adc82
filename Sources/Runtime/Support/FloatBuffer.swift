/// An owned, fixed-size float array with a stable address, for weights and scratch space that
/// kernels read through raw pointers (a Swift Array could move or copy under them).
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Copies the given rows of this row-major matrix of `width` columns, one after another, into
    /// out: an embedding lookup.
    public func copyRows(_ rows: [Int], width: Int, into out: UnsafeMutablePointer<Float>) {
        for (t, row) in rows.enumerated() {
            (out + t * width).update(from: pointer + row * width, count: width)
        }
    }
}

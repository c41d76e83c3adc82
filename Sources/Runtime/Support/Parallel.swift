import Dispatch

/// Splits independent work over threads. Work is cut into `threads` contiguous pieces so each
/// thread gets one large job: fork-join costs microseconds, the pieces must be worth it.
public enum Parallel {
    public static func forEachChunk(_ count: Int, threads: Int, minimumPerThread: Int = 1,
                                    _ body: (Range<Int>) -> Void) {
        let pieces = max(1, min(threads, count / max(minimumPerThread, 1)))
        if pieces == 1 { body(0..<count); return }
        // concurrentPerform returns only when every piece is done, so `body` never escapes.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: pieces) { p in
            let lo = count * p / pieces, hi = count * (p + 1) / pieces
            if lo < hi { body(lo..<hi) }
        }
    }
}

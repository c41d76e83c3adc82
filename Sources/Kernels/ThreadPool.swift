import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// A small fork-join pool for the matrix products (CKernels' pb_pool): persistent workers that spin
/// briefly after a job, then sleep on a futex; the calling thread always takes part, so a pool of N
/// threads starts N − 1 workers. Parts are claimed from a shared counter, so a descheduled worker
/// delays a job by at most the part it holds.
///
/// `BinaryMatrix` and `Q8Matrix` split their whole-matrix products over `ThreadPool.shared` when
/// the product is large enough (`minimumParallelWork`); a call that names a row range runs on the
/// calling thread.
public final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in a job (the caller included).
    public let threads: Int
    private let pool: OpaquePointer

    /// - Parameters:
    ///   - threads: threads in all, the caller included (≥ 1).
    ///   - spinMicroseconds: how long idle workers (and a caller waiting for a straggler) spin
    ///     before they block. Decode runs products a few µs apart, so the default keeps workers
    ///     awake between the products of one token without holding a core through longer pauses.
    public init(threads: Int, spinMicroseconds: Int = ThreadPool.defaultSpinMicroseconds) {
        precondition(threads >= 1, "a thread pool needs at least one thread")
        guard let p = pb_pool_create(Int32(threads), Int64(spinMicroseconds) * 1000) else {
            preconditionFailure("could not start \(threads - 1) worker threads")
        }
        pool = p
        self.threads = threads
    }

    deinit { pb_pool_destroy(pool) }

    public static let defaultSpinMicroseconds = 100

    /// Jobs so far whose caller waited on a preempted worker; each one makes the pool run the next
    /// jobs (64, doubling per further stall up to 8192) on the calling thread alone.
    public var stalls: Int { Int(pb_pool_stalls(pool)) }

    /// Changes how long idle threads spin before they block.
    public func setSpin(microseconds: Int) { pb_pool_set_spin(pool, Int64(max(0, microseconds)) * 1000) }

    /// Runs body(p) for every p in 0..<parts across the pool and returns when all have finished.
    /// Jobs from several threads are serialized; a call from inside a part runs on that thread.
    public func run(parts: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            var job = body
            withUnsafeMutablePointer(to: &job) { ctx in
                pb_pool_run(pool, { ctx, part in
                    ctx!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
                }, ctx, Int64(parts))
            }
        }
    }

    /// Splits `range` into `parts` (default: one per thread) pieces that start at multiples of
    /// `block` from its lower bound, and runs body on each across the pool.
    public func forEachRange(_ range: Range<Int>, block: Int, parts: Int? = nil, _ body: (Range<Int>) -> Void) {
        let block = max(1, block)
        let blocks = (range.count + block - 1) / block
        let n = max(1, min(parts ?? threads, blocks))
        run(parts: n) { p in
            let lo = range.lowerBound + min(range.count, blocks * p / n * block)
            let hi = range.lowerBound + min(range.count, blocks * (p + 1) / n * block)
            if lo < hi { body(lo..<hi) }
        }
    }

    /// The split policy of the matrix products over `rows`: a call naming `range` runs on the
    /// calling thread; a whole-matrix product is split over `pool` at multiples of `block` when its
    /// `work` (in `minimumParallelWork` units) repays a fork-join, else it runs on the caller too.
    static func forEachRowRange(rows: Int, _ range: Range<Int>?, work: Int, block: Int, pool: ThreadPool?,
                                _ body: (Range<Int>) -> Void) {
        if range == nil, let pool, pool.threads > 1, work >= minimumParallelWork {
            pool.forEachRange(0..<rows, block: block, body)
        } else {
            body(range ?? 0..<rows)
        }
    }

    // MARK: - The shared pool

    /// The pool the matrix products use by default; nil runs them on the calling thread. Set it once
    /// at start-up (e.g. from a `--threads` option), before products run on other threads. Its
    /// initial value comes from the environment variable PBLLM_KERNEL_THREADS (a thread count; unset
    /// or ≤ 1: nil).
    nonisolated(unsafe) public static var shared: ThreadPool? = {
        guard let value = getenv("PBLLM_KERNEL_THREADS"), let n = Int(String(cString: value)), n > 1 else { return nil }
        return ThreadPool(threads: n)
    }()

    /// Makes `shared` a pool of `threads` threads (nil for 1 or fewer).
    public static func setSharedThreads(_ threads: Int) {
        shared = threads > 1 ? ThreadPool(threads: threads) : nil
    }

    /// Work below which a product is not split, in units of one sign-bit weight × one vector (about
    /// 9 ps with AVX-512 VNNI; a salient entry counts 20, a q8 weight 4, their measured relative
    /// costs). Measured on 2 cores: a fork-join costs 0.3–0.5 µs, and two threads ran a one-vector
    /// 576×576 sign-bit product (332K) 1.07× faster, 192×576 (110K) 0.6× slower, 1536×576 (885K)
    /// 1.5× faster, and 576×576 with 10% salient weights (≈1M) 1.6× faster.
    nonisolated(unsafe) public static var minimumParallelWork = 400_000
}

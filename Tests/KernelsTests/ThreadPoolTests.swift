import Dispatch
import XCTest

import Kernels

final class ThreadPoolTests: XCTestCase {
    /// Every part runs exactly once per job, over many back-to-back jobs, with workers that spin and
    /// with workers that sleep at once (the futex path).
    func testEveryPartRunsOnce() {
        for spin in [0, 100] {
            for threads in [1, 2, 3, 5] {
                let pool = ThreadPool(threads: threads, spinMicroseconds: spin)
                for parts in [1, 2, 3, 7, 64] {
                    let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts)
                    defer { counts.deallocate() }
                    counts.initialize(repeating: 0)
                    let jobs = spin == 0 ? 200 : 2000
                    for _ in 0..<jobs { pool.run(parts: parts) { counts[$0] += 1 } }   // each part owns its slot
                    XCTAssertTrue(counts.allSatisfy { $0 == jobs }, "threads \(threads) parts \(parts) spin \(spin)")
                }
            }
        }
    }

    /// Pieces cover the range exactly, start at multiples of the block, and do not overlap.
    func testForEachRangeSplitsAtBlocks() {
        let pool = ThreadPool(threads: 3)
        for (range, block) in [(0..<576, 16), (0..<49152, 16), (5..<70, 8), (0..<3, 16), (0..<0, 4)] {
            for parts in [nil, 1, 2, 4, 7] {
                let marks = UnsafeMutableBufferPointer<Int>.allocate(capacity: max(1, range.upperBound))
                defer { marks.deallocate() }
                marks.initialize(repeating: 0)
                pool.forEachRange(range, block: block, parts: parts) { piece in
                    XCTAssertEqual((piece.lowerBound - range.lowerBound) % block, 0)
                    for i in piece { marks[i] += 1 }
                }
                for i in 0..<range.upperBound { XCTAssertEqual(marks[i], range.contains(i) ? 1 : 0, "\(range) \(block) \(String(describing: parts))") }
            }
        }
    }

    /// A job started from inside a part runs on that thread; jobs from several threads serialize.
    func testNestedAndConcurrentCallers() {
        let pool = ThreadPool(threads: 2)
        let out = UnsafeMutableBufferPointer<Int>.allocate(capacity: 16)
        defer { out.deallocate() }
        out.initialize(repeating: 0)
        pool.run(parts: 4) { p in
            pool.run(parts: 4) { q in out[p * 4 + q] += 1 }
        }
        XCTAssertTrue(out.allSatisfy { $0 == 1 })

        let slots = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4 * 3)
        defer { slots.deallocate() }
        slots.initialize(repeating: 0)
        let s = UncheckedBox(slots)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<500 { pool.run(parts: 3) { s.value[caller * 3 + $0] += 1 } }
        }
        XCTAssertTrue(slots.allSatisfy { $0 == 500 })
    }

    /// A job whose worker-side part takes far longer than the caller's counts as a stall, and the
    /// next 64 jobs then run on the calling thread alone.
    func testStallBacksOffToCallerOnly() {
        let pool = ThreadPool(threads: 2, spinMicroseconds: 1000)
        let caller = pthread_self()
        // The caller takes both parts until the worker gets a core: keep trying for a while.
        let deadline = DispatchTime.now().uptimeNanoseconds + 10_000_000_000
        var tries = 0
        while pool.stalls == 0 && DispatchTime.now().uptimeNanoseconds < deadline {
            pool.run(parts: 2) { _ in if pthread_equal(pthread_self(), caller) == 0 { usleep(2000) } }
            tries += 1
        }
        XCTAssertEqual(pool.stalls, 1, "no stall detected in \(tries) jobs")
        let onCaller = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64 * 4)
        defer { onCaller.deallocate() }
        onCaller.initialize(repeating: 0)
        for j in 0..<64 {
            pool.run(parts: 4) { p in onCaller[j * 4 + p] = pthread_equal(pthread_self(), caller) != 0 ? 1 : 0 }
        }
        XCTAssertTrue(onCaller.allSatisfy { $0 == 1 }, "jobs ran on a worker during the back-off")
    }

    /// Products split over a pool equal single-threaded ones bit for bit.
    func testMatrixProductsWithPoolMatchSingleThread() throws {
        var rng = SplitMix64(seed: 0x5eed_0901)
        let pool = ThreadPool(threads: 3)
        let saved = ThreadPool.minimumParallelWork
        ThreadPool.minimumParallelWork = 0
        defer { ThreadPool.minimumParallelWork = saved }
        for (n, k) in [(1536, 576), (577, 1000), (5, 64)] {
            let layer = TestLayer(rows: n, k: k, salientFraction: 0.1, rng: &rng)
            let m = try layer.matrix()
            let q8 = try Q8TestMatrix(rows: n, k: k, rng: &rng).matrix()
            let tokens = 5
            let x = ActivationKind.normal.generate(count: k * tokens, rng: &rng)
            let acts = BinaryActivations(maxK: k, maxTokens: tokens)
            acts.prepare(x, k: k, tokens: tokens, needs: [.float, .bytes, .planes])
            for v in KernelVariant.allAvailable where v != .scalarDot && v != .scalarFloat {
                var one = [Float](repeating: 0, count: n * tokens), many = one
                m.gemm(acts, &one, ldy: n, variant: v, pool: nil)
                m.gemm(acts, &many, ldy: n, variant: v, pool: pool)
                XCTAssertEqual(one, many, "gemm \(v) \(n)×\(k)")
                var y1 = [Float](repeating: 0, count: n), y2 = y1
                m.gemv(acts, &y1, token: 2, variant: v, pool: nil)
                m.gemv(acts, &y2, token: 2, variant: v, pool: pool)
                XCTAssertEqual(y1, y2, "gemv \(v) \(n)×\(k)")
            }
            for v in Q8Variant.allAvailable {
                var one = [Float](repeating: 0, count: n * tokens), many = one
                q8.gemm(acts, &one, ldy: n, variant: v, pool: nil)
                q8.gemm(acts, &many, ldy: n, variant: v, pool: pool)
                XCTAssertEqual(one, many, "q8 gemm \(v) \(n)×\(k)")
                var y1 = [Float](repeating: 0, count: n), y2 = y1
                q8.gemv(acts, &y1, token: 1, variant: v, pool: nil)
                q8.gemv(acts, &y2, token: 1, variant: v, pool: pool)
                XCTAssertEqual(y1, y2, "q8 gemv \(v) \(n)×\(k)")
            }
        }
    }
}

private struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

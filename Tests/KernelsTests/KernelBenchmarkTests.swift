import Foundation
import Kernels
import XCTest

/// Runs the kernel micro-benchmark by hand, in release:
///     PBLLM_KERNEL_BENCH=1 swift test -c release --filter KernelBenchmarkTests
/// (PBLLM_KERNEL_BENCH_THREADS=2 for two threads, PBLLM_KERNEL_BENCH_JSON=1 for JSON).
final class KernelBenchmarkTests: XCTestCase {
    func testPrintKernelBenchmark() throws {
        let env = ProcessInfo.processInfo.environment
        try XCTSkipUnless(env["PBLLM_KERNEL_BENCH"] == "1", "set PBLLM_KERNEL_BENCH=1 to run the benchmark")
        let threads = Int(env["PBLLM_KERNEL_BENCH_THREADS"] ?? "1") ?? 1
        let report = KernelBenchmark.run(threads: threads, json: env["PBLLM_KERNEL_BENCH_JSON"] == "1")
        print(report)
        XCTAssertFalse(report.isEmpty)
    }
}

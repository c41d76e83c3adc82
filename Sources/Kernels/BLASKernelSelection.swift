import COpenBLAS
import Foundation

/// OpenBLAS chooses its kernels once, in a library constructor that runs before `main`. Under
/// some hypervisors its CPU detection fails and it falls back to SSE3 ("Prescott") kernels, which
/// run GEMM about 3× slower on a machine with AVX-512. `OPENBLAS_CORETYPE` overrides the choice but
/// is read only at load, so the only fix from inside the process is to set it and start again.
public enum BLASKernelSelection {
    /// The kernel family OpenBLAS is using.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The OpenBLAS core type this CPU can run, or nil when OpenBLAS's own choice should stand.
    public static func preferredCoreType(for cpu: CPUFeatures = .current) -> String? {
        if cpu.avx512f && cpu.avx512bw && cpu.avx512vl { return "SkylakeX" }
        if cpu.avx2 && cpu.fma { return "Haswell" }
        return nil
    }

    /// If OpenBLAS fell back to Prescott kernels on a CPU that can do better, and nobody set
    /// OPENBLAS_CORETYPE, re-executes this program once with it set. Returns if nothing to do.
    public static func reexecWithVectorKernelsIfNeeded() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              coreName.lowercased() == "prescott",
              let core = preferredCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let argv = CommandLine.unsafeArgv
        execv("/proc/self/exe", argv)
        // execv returned: it failed; carry on with the slow kernels rather than not at all.
    }
}

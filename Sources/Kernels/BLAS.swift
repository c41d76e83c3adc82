import COpenBLAS

/// Thin, typed wrappers over the OpenBLAS calls the runtime uses. Matrices are row-major.
public enum BLAS {
    /// Threads OpenBLAS may use for one call (it starts with as many as there are cores).
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// C[M×N] = alpha·A[M×K]·B[N×K]ᵀ + beta·C — the shape of a linear layer applied to M tokens
    /// with weights stored one output row per line (as GGUF and PyTorch store them).
    public static func gemmABt(m: Int, n: Int, k: Int, alpha: Float = 1,
                               a: UnsafePointer<Float>, lda: Int,
                               b: UnsafePointer<Float>, ldb: Int,
                               beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 1 {
            // One token: a matrix-vector product is cheaper than a degenerate GEMM.
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(k), alpha, b, Int32(ldb),
                        a, 1, beta, c, 1)
            return
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// C[M×N] = alpha·A[M×K]·B[K×N] + beta·C.
    public static func gemmAB(m: Int, n: Int, k: Int, alpha: Float = 1,
                              a: UnsafePointer<Float>, lda: Int,
                              b: UnsafePointer<Float>, ldb: Int,
                              beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

extension BLAS {
    /// C[n×n] += Aᵀ·A for A[k×n] (rows are samples): the upper triangle of C (row-major) is updated.
    public static func syrkAtA(n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int) {
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(n), Int32(k), 1, a, Int32(lda), 1, c, Int32(ldc))
    }
}

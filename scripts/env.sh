# Sourced by the scripts: puts the Swift toolchain on PATH where the image keeps it.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
# OpenBLAS's CPU detection falls back to SSE3 kernels under some hypervisors (3x slower GEMM).
# pbllm-run fixes that for itself; test processes get the core type here. A value already set
# (some machines set one on purpose) is left alone.
if [ -z "${OPENBLAS_CORETYPE+x}" ]; then
    if grep -qw avx512bw /proc/cpuinfo 2>/dev/null && grep -qw avx512vl /proc/cpuinfo; then
        export OPENBLAS_CORETYPE=SkylakeX
    elif grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo; then
        export OPENBLAS_CORETYPE=Haswell
    fi
fi

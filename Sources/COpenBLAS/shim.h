// OpenBLAS's CBLAS interface plus the LAPACK routines we call (gfortran ABI: every argument by
// pointer). libopenblas exports the Fortran LAPACK symbols itself, so no LAPACKE is needed.
#include <cblas.h>

void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);

// Which kernel family OpenBLAS chose at load ("Prescott", "Haswell", "SkylakeX", …).
char *openblas_get_corename(void);

// Open MPI for Swift: MPI_COMM_WORLD, MPI_DOUBLE, MPI_LONG and MPI_IN_PLACE are macros over
// internal symbols that Swift cannot import, so these one-line wrappers name them. No logic.
#include <mpi.h>

static inline int strata_mpi_init(void) {
    int provided = 0;
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}
static inline int strata_mpi_finalize(void) { return MPI_Finalize(); }
static inline int strata_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int strata_mpi_size(void) { int s = 0; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
static inline int strata_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static inline void strata_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
/// In place: each rank's block of `buffer` (counts/displs in doubles) is sent to everyone.
static inline int strata_mpi_allgatherv_double(double *buffer, const int *counts, const int *displs) {
    return MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buffer, counts, displs, MPI_DOUBLE, MPI_COMM_WORLD);
}
static inline int strata_mpi_bcast_long(long *value, int root) { return MPI_Bcast(value, 1, MPI_LONG, root, MPI_COMM_WORLD); }

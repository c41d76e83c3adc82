// A small fork-join thread pool for the matrix products: persistent workers that spin briefly for
// the next job, then sleep on a futex. The caller takes part in every job, so a pool of N threads
// starts N − 1 workers. Parts are claimed from a shared counter, so a descheduled worker delays a
// job by at most the part it holds.
#ifndef PB_POOL_H
#define PB_POOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pb_pool pb_pool;

/// fn(ctx, part) for one part of a job.
typedef void (*pb_pool_fn)(void *ctx, int64_t part);

/// A pool of `threads` threads in all (the caller plus threads − 1 workers; threads ≥ 1). Workers
/// spin for about `spin_ns` nanoseconds after a job before they block. NULL if a thread cannot
/// be started.
pb_pool *pb_pool_create(int threads, int64_t spin_ns);
/// Stops and joins the workers. No job may be running.
void pb_pool_destroy(pb_pool *pool);
int pb_pool_threads(const pb_pool *pool);
void pb_pool_set_spin(pb_pool *pool, int64_t spin_ns);

/// Runs fn(ctx, p) for every p < parts across the pool's threads, the caller included, and
/// returns when all have finished. One job at a time per pool: calls from several threads are
/// serialized; a call from inside a part runs the job on the calling thread alone.
/// After a job stalls (the caller, done with its own parts, waited 50 µs longer than they took:
/// a worker preempted on an oversubscribed machine), the next jobs run on the caller alone: 64,
/// then twice as many after each further stall up to 8192, until a job runs clean again.
void pb_pool_run(pb_pool *pool, pb_pool_fn fn, void *ctx, int64_t parts);
/// Jobs that stalled so far (diagnostics).
int64_t pb_pool_stalls(pb_pool *pool);

#ifdef __cplusplus
}
#endif
#endif

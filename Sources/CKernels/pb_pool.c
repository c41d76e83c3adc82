// The fork-join pool of pb_pool.h. Linux only (futex).
//
// A job is published as (fn, ctx, parts) plus a 64-bit claim word holding the job's generation in
// its high half and the next unclaimed part in its low half. Every thread claims parts with a
// compare-and-swap that names the generation, so a worker that wakes late, or lingers after the
// job it joined has finished, can never run a part of the wrong job. The caller claims parts too,
// then waits until the job's `done` count reaches `parts`.
//
// Idle workers watch the 32-bit generation word: they spin (with pause) for spin_ns after their
// last job, then register as sleepers and futex-wait on it. The caller bumps the generation, then
// wakes the sleepers if there are any (both sides sequentially consistent: no lost wake-ups).
#define _GNU_SOURCE
#include "pb_pool.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct pb_pool {
    int threads;
    pthread_t *workers;
    int64_t spin_ns;                 // atomic
    pthread_mutex_t run_lock;        // one job at a time

    pb_pool_fn fn;                   // the current job (written before the claim word)
    void *ctx;
    int64_t parts;
    uint64_t claim;                  // atomic: generation << 32 | next part
    int64_t done;                    // atomic: parts finished in the current job
    uint32_t generation;             // atomic futex word: bumped once per job (and at stop)
    int32_t sleepers;                // atomic: workers in (or entering) futex_wait
    int stop;                        // atomic

    // Contention back-off (caller side, under run_lock): after a stall, the next `inline_left`
    // jobs run on the caller alone; each further stall doubles `backoff`, a clean job resets it.
    int64_t inline_left, backoff;
    int64_t stalls;                  // for diagnostics
};

// A job stalled when the caller, done with its own parts, then waited longer than those took plus
// this much: on an oversubscribed machine a worker preempted inside its part delays the job by a
// scheduler slice (milliseconds), so the pool then steps aside for a while.
#define PB_POOL_STALL_NS 50000
#define PB_POOL_BACKOFF_MIN 64
#define PB_POOL_BACKOFF_MAX 8192

static _Thread_local int in_part = 0;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void futex_wait(uint32_t *addr, uint32_t expected) {
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(uint32_t *addr) {
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

// Claims and runs parts of job `gen` until none is left (or the job is no longer current).
static void run_parts(pb_pool *p, uint32_t gen) {
    uint64_t c = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((uint32_t)(c >> 32) != gen) return;
        int64_t part = (int64_t)(uint32_t)c;
        // A stale `parts` (a newer job's) is harmless: the claim word changed, so the CAS fails.
        if (part >= __atomic_load_n(&p->parts, __ATOMIC_RELAXED)) return;
        if (!__atomic_compare_exchange_n(&p->claim, &c, c + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;   // c now holds the current value
        // Job `gen` cannot finish before this part does, so fn and ctx are still its own.
        in_part = 1;
        p->fn(p->ctx, part);
        in_part = 0;
        __atomic_add_fetch(&p->done, 1, __ATOMIC_RELEASE);
        c = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
    }
}

static void *worker_main(void *arg) {
    pb_pool *p = arg;
    // The generation the pool was created with, not the current one: a worker that starts late
    // (after jobs, or even after pb_pool_destroy) must still notice every bump since creation.
    uint32_t seen = 0;
    for (;;) {
        int64_t spin_until = now_ns() + __atomic_load_n(&p->spin_ns, __ATOMIC_RELAXED);
        uint32_t g;
        unsigned n = 0;
        while ((g = __atomic_load_n(&p->generation, __ATOMIC_ACQUIRE)) == seen) {
            cpu_relax();
            if (++n % 32 == 0 && now_ns() > spin_until) {
                __atomic_add_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
                if (__atomic_load_n(&p->generation, __ATOMIC_SEQ_CST) == seen) futex_wait(&p->generation, seen);
                __atomic_sub_fetch(&p->sleepers, 1, __ATOMIC_SEQ_CST);
                spin_until = now_ns() + __atomic_load_n(&p->spin_ns, __ATOMIC_RELAXED);
            }
        }
        seen = g;
        if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) return NULL;
        run_parts(p, g);
    }
}

pb_pool *pb_pool_create(int threads, int64_t spin_ns) {
    if (threads < 1) threads = 1;
    pb_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    p->spin_ns = spin_ns < 0 ? 0 : spin_ns;
    pthread_mutex_init(&p->run_lock, NULL);
    p->workers = calloc((size_t)threads, sizeof(pthread_t));
    if (!p->workers) {
        free(p);
        return NULL;
    }
    for (int i = 0; i < threads - 1; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
            p->threads = i + 1;   // destroy joins the ones that started
            pb_pool_destroy(p);
            return NULL;
        }
    }
    return p;
}

void pb_pool_destroy(pb_pool *p) {
    if (!p) return;
    __atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
    __atomic_add_fetch(&p->generation, 1, __ATOMIC_SEQ_CST);
    futex_wake_all(&p->generation);
    for (int i = 0; i < p->threads - 1; i++) pthread_join(p->workers[i], NULL);
    pthread_mutex_destroy(&p->run_lock);
    free(p->workers);
    free(p);
}

int pb_pool_threads(const pb_pool *p) { return p->threads; }

void pb_pool_set_spin(pb_pool *p, int64_t spin_ns) {
    __atomic_store_n(&p->spin_ns, spin_ns < 0 ? 0 : spin_ns, __ATOMIC_RELAXED);
}

void pb_pool_run(pb_pool *p, pb_pool_fn fn, void *ctx, int64_t parts) {
    if (parts <= 0) return;
    if (p->threads == 1 || parts == 1 || in_part) {   // nothing to share, or nested in a part
        for (int64_t i = 0; i < parts; i++) fn(ctx, i);
        return;
    }
    pthread_mutex_lock(&p->run_lock);
    if (p->inline_left > 0) {   // backing off after a stall
        p->inline_left--;
        pthread_mutex_unlock(&p->run_lock);
        for (int64_t i = 0; i < parts; i++) fn(ctx, i);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    __atomic_store_n(&p->parts, parts, __ATOMIC_RELAXED);
    __atomic_store_n(&p->done, 0, __ATOMIC_RELAXED);
    uint32_t gen = __atomic_load_n(&p->generation, __ATOMIC_RELAXED) + 1;
    __atomic_store_n(&p->claim, (uint64_t)gen << 32, __ATOMIC_RELEASE);
    __atomic_store_n(&p->generation, gen, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&p->sleepers, __ATOMIC_SEQ_CST) > 0) futex_wake_all(&p->generation);

    const int64_t t0 = now_ns();
    run_parts(p, gen);

    // Parts still running belong to workers: spin for them, then yield the core (on an
    // oversubscribed machine the straggler may be waiting for exactly this core).
    if (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < parts) {
        const int64_t t1 = now_ns();
        int64_t spin_until = t1 + __atomic_load_n(&p->spin_ns, __ATOMIC_RELAXED);
        unsigned n = 0;
        while (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < parts) {
            cpu_relax();
            if (++n % 32 == 0 && now_ns() > spin_until) sched_yield();
        }
        if (now_ns() - t1 > (t1 - t0) + PB_POOL_STALL_NS) {
            p->stalls++;
            p->backoff = p->backoff ? (p->backoff * 2 < PB_POOL_BACKOFF_MAX ? p->backoff * 2 : PB_POOL_BACKOFF_MAX)
                                    : PB_POOL_BACKOFF_MIN;
            p->inline_left = p->backoff;
        } else {
            p->backoff = 0;
        }
    } else {
        p->backoff = 0;
    }
    pthread_mutex_unlock(&p->run_lock);
}

int64_t pb_pool_stalls(pb_pool *p) {
    pthread_mutex_lock(&p->run_lock);
    int64_t n = p->stalls;
    pthread_mutex_unlock(&p->run_lock);
    return n;
}

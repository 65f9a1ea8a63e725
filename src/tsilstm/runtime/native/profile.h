/* Optional timing of the kernel's calls (off by default, then nothing is timed). With it on, every
 * call records where each thread's time went, in nanoseconds (CLOCK_MONOTONIC): the hoisted input
 * product, the cell updates (finish, reset and projection ops), the waits for other threads'
 * progress, and the whole thread; the tile products of the sweeps are the rest. Plus the caller's
 * preparation before the threads start (quantizing or splitting x). The figures are summed by
 * thread index over every profiled call (of any caller) until profile_take reads and clears them. */
#ifndef TSI_PROFILE_H
#define TSI_PROFILE_H

#include <stdint.h>
#include <time.h>

enum { PROFILE_HOIST, PROFILE_UPDATE, PROFILE_WAIT, PROFILE_TOTAL, PROFILE_FIELDS };
#define MAX_PROFILED_THREADS 256

static inline int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Turn profiling on or off; returns the previous setting. */
int profile_set(int enabled);
int profile_enabled(void);

/* Add one call's figures: per_thread [nthreads][PROFILE_FIELDS], prepare_ns. */
void profile_add(const int64_t *per_thread, int nthreads, int64_t prepare_ns);

/* Copy the sums into sums [MAX_PROFILED_THREADS][PROFILE_FIELDS] (rows 0 .. *threads - 1 used), the
 * calls and the preparation time, and clear them (when `clear`). */
void profile_take(int64_t sums[][PROFILE_FIELDS], int *threads, int64_t *calls, int64_t *prepare_ns, int clear);

#endif

/* The profile sums (see profile.h). */
#include "profile.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

static _Atomic int profiling = 0;
static pthread_mutex_t profile_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t profile_sums[MAX_PROFILED_THREADS][PROFILE_FIELDS];
static int64_t profile_prepare_ns, profile_calls;
static int profile_threads; /* the most threads a profiled call had */

int profile_set(int enabled) { return atomic_exchange(&profiling, enabled); }

int profile_enabled(void) { return atomic_load_explicit(&profiling, memory_order_relaxed); }

void profile_add(const int64_t *per_thread, int nthreads, int64_t prepare_ns) {
    pthread_mutex_lock(&profile_lock);
    for (int p = 0; p < nthreads; p++)
        for (int f = 0; f < PROFILE_FIELDS; f++) profile_sums[p][f] += per_thread[(size_t)p * PROFILE_FIELDS + f];
    profile_threads = nthreads > profile_threads ? nthreads : profile_threads;
    profile_prepare_ns += prepare_ns;
    profile_calls++;
    pthread_mutex_unlock(&profile_lock);
}

void profile_take(int64_t sums[][PROFILE_FIELDS], int *threads, int64_t *calls, int64_t *prepare_ns, int clear) {
    pthread_mutex_lock(&profile_lock);
    memcpy(sums, profile_sums, sizeof profile_sums);
    *threads = profile_threads;
    *calls = profile_calls;
    *prepare_ns = profile_prepare_ns;
    if (clear) {
        memset(profile_sums, 0, sizeof profile_sums);
        profile_prepare_ns = profile_calls = 0;
        profile_threads = 0;
    }
    pthread_mutex_unlock(&profile_lock);
}

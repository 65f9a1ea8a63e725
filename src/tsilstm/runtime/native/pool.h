/* Worker threads kept between calls of the kernel, so a call does not pay for thread creation. */
#ifndef TSI_POOL_H
#define TSI_POOL_H

#define MAX_POOL_WORKERS 255
#define SPINS_BEFORE_YIELD 256 /* busy-wait rounds before a waiting thread yields its CPU */

/* What the pool runs: run(arg, index) for index 0 .. nthreads - 1 (index 0 on the caller). linger:
 * workers spin a while afterwards and bind to CPUs away from the caller's; 0 (a call from inside
 * another framework, whose own threads need the cores between calls): they sleep at once and float.
 * team: run on the calling framework's OpenMP team when one is registered (pool_set_team) and it
 * gives exactly nthreads threads, else on the pool. */
typedef struct {
    void (*run)(void *arg, int index);
    void *arg;
    int nthreads;
    int linger;
    int team;
} pool_task_t;

/* The OpenMP runtime a framework (torch) runs its own threads on: its GOMP_parallel entry (the ABI
 * `#pragma omp parallel` compiles to, exported by libgomp and by LLVM's and Intel's OpenMP), and its
 * omp_get_num_threads / omp_get_thread_num. Tasks with `team` then run on that framework's threads,
 * which are awake right after its own operators, instead of waking ours beside them. All NULL:
 * none (the default). */
typedef void (*team_parallel_fn)(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
typedef int (*team_query_fn)(void);
void pool_set_team(team_parallel_fn parallel, team_query_fn num_threads, team_query_fn thread_num);

/* Run `task` on the pool (index 0 on this thread), returning when every index has finished; 0 when
 * the pool is busy with another caller or cannot grow to nthreads - 1 workers (nothing ran: the
 * caller then starts threads itself). Called without the GIL. */
int pool_run(const pool_task_t *task);

/* Turn worker pinning on or off (each worker applies it at its next task); returns the previous setting. */
int pool_set_pinning(int enabled);

/* The kernel thread id of worker `index` (1 .. MAX_POOL_WORKERS), 0 if not started. */
long pool_worker_thread_id(int index);

/* Once, at load: after fork() the child starts with an empty pool. */
void pool_init(void);

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif

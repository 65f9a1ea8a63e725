/* The persistent worker pool (see pool.h). */
#define _GNU_SOURCE /* CPU_SET, sched_getcpu and pthread_setaffinity_np, for the workers' pinning */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

/* Worker threads kept between calls, so a call does not pay for thread creation (tens of us, as
 * much as a whole step of a small layer). One caller at a time uses the pool (try-lock; a second
 * concurrent caller starts threads of its own, as before). A job is published by bumping
 * `generation` (release); after a job that lingers (the default) workers spin on it for a while (a
 * stream of calls hands off in well under a microsecond), then sleep on a condition variable; after
 * a job that does not (called from inside a framework whose own thread pool needs the cores between
 * calls) they sleep at once and float. Worker i runs thread
 * index i of the job when i < nthreads; every worker then counts `remaining` down (release); the
 * caller runs index 0 and waits for remaining == 0 (acquire). After fork() the child starts with
 * an empty pool. */
#define POOL_SPINS_BEFORE_SLEEP 20000 /* spins of an idle worker after a lingering job before it sleeps */

/* Worker pinning (on unless set_worker_pinning(False)): at the start of each job a worker binds
 * itself, if it is not bound there already, to one of the CPUs the pool's creator may run on,
 * other than the caller's while there are enough (worker_cpu). The caller's thread is never
 * bound. Without it, a worker woken after an idle spell was often placed on the caller's CPU and
 * stayed there (measured on a 2-vCPU KVM guest: one call of GRU 512 took 570 us instead of 190 us,
 * the two lockstep threads sharing one CPU); binding workers to fixed CPUs alone was not enough,
 * as the caller then sometimes sat on a worker's CPU. The binding changes only when the caller has
 * moved (one system call then). Off: workers float (for a deployment that sets affinities itself). */
static _Atomic int pin_workers = 1;

typedef struct {
    pthread_mutex_t use;   /* held by the caller whose job the pool runs */
    pthread_mutex_t sleep; /* with `wake`: where idle workers sleep */
    pthread_cond_t wake;
    int size;              /* workers started: indices 1..size */
    const pool_task_t *task;
    _Atomic long generation;
    _Atomic int remaining;
    long born_at[MAX_POOL_WORKERS + 1]; /* the generation before a worker's first job */
    int caller_cpu;        /* the CPU the caller ran on when it published the job, or -1 */
    cpu_set_t allowed;     /* the CPUs the pool's creator may run on (workers pick from these) */
    _Atomic long thread_id[MAX_POOL_WORKERS + 1]; /* each worker's kernel thread id, once started */
} pool_t;

static pool_t pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, 0, 0, {0}, -1, {{0}}, {0}};

/* The CPU worker `index` (1..) binds itself to while the caller runs on `caller_cpu`: the allowed
 * CPUs are taken in order with the caller's moved last, and worker i gets the (i-1)-th (modulo
 * their count), so workers share the caller's CPU only when there are more threads than CPUs;
 * -1 when pinning is off or fewer than two CPUs are allowed. */
static int worker_cpu(int index, int caller_cpu, int pin) {
    if (!pin) return -1;
    const int count = CPU_COUNT(&pool.allowed);
    if (count < 2) return -1;
    const int callers = caller_cpu >= 0 && caller_cpu < CPU_SETSIZE && CPU_ISSET(caller_cpu, &pool.allowed);
    const int wanted = (index - 1) % count;
    if (callers && wanted == count - 1) return caller_cpu;
    for (int cpu = 0, seen = 0; cpu < CPU_SETSIZE; cpu++)
        if (cpu != caller_cpu && CPU_ISSET(cpu, &pool.allowed) && seen++ == wanted) return cpu;
    return -1;
}

/* Bind this worker to `cpu` (-1: to every allowed CPU); best effort (a refusal leaves it as it was). */
static void bind_worker(int cpu) {
    cpu_set_t mask;
    if (cpu >= 0) {
        CPU_ZERO(&mask);
        CPU_SET(cpu, &mask);
    } else {
        mask = pool.allowed;
    }
    (void)pthread_setaffinity_np(pthread_self(), sizeof mask, &mask);
}

static void *pool_worker(void *arg) {
    const int index = (int)(intptr_t)arg;
    long seen = pool.born_at[index]; /* written before this thread was created */
    int bound_to = -1;                 /* the CPU this worker is bound to, -1: not bound */
    int seen_caller = -2, seen_pin = -1; /* what bound_to was worked out for */
    atomic_store(&pool.thread_id[index], (long)gettid());
    int spin_budget = 0; /* spins before sleeping: POOL_SPINS_BEFORE_SLEEP after a lingering job */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen) {
            if (++spins < spin_budget) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool.sleep);
            while (atomic_load_explicit(&pool.generation, memory_order_acquire) == seen)
                pthread_cond_wait(&pool.wake, &pool.sleep);
            pthread_mutex_unlock(&pool.sleep);
        }
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        const pool_task_t *task = pool.task;
        const int pin = atomic_load_explicit(&pin_workers, memory_order_relaxed) && task->linger;
        spin_budget = task->linger ? POOL_SPINS_BEFORE_SLEEP : 0;
        if (pool.caller_cpu != seen_caller || pin != seen_pin) { /* the caller moved or the setting changed */
            seen_caller = pool.caller_cpu;
            seen_pin = pin;
            const int cpu = worker_cpu(index, seen_caller, pin);
            if (cpu != bound_to) {
                bind_worker(cpu);
                bound_to = cpu;
            }
        }
        if (index < task->nthreads) task->run(task->arg, index);
        /* every worker acknowledges every job, so none can still be reading this one when the
         * caller returns (and its task, on the caller's stack, is gone) or publishes the next */
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_acq_rel);
    }
    return NULL;
}

static void forget_team(void);

static void after_fork_in_child(void) {
    forget_team(); /* an OpenMP runtime's team does not survive fork() (libgomp's may hang in the child) */
    pthread_mutex_init(&pool.use, NULL);
    pthread_mutex_init(&pool.sleep, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pool.size = 0; /* the workers were not copied into the child */
    for (int i = 0; i <= MAX_POOL_WORKERS; i++) atomic_store(&pool.thread_id[i], 0);
    pool.task = NULL;
}

/* The registered OpenMP team (pool_set_team), published together: `team_parallel` last (release). */
static team_query_fn team_num_threads, team_thread_num;
static _Atomic(team_parallel_fn) team_parallel;

static void forget_team(void) { atomic_store_explicit(&team_parallel, (team_parallel_fn)NULL, memory_order_release); }

void pool_set_team(team_parallel_fn parallel, team_query_fn num_threads, team_query_fn thread_num) {
    atomic_store_explicit(&team_parallel, (team_parallel_fn)NULL, memory_order_release);
    if (!parallel || !num_threads || !thread_num) return;
    team_num_threads = num_threads;
    team_thread_num = thread_num;
    atomic_store_explicit(&team_parallel, parallel, memory_order_release);
}

typedef struct {
    const pool_task_t *task;
    team_query_fn num_threads, thread_num;
    _Atomic int short_team; /* set when the team had another size: nobody ran, the pool runs it */
} team_job_t;

/* Each team thread's part: its index of the task, or nothing at all when the team is not exactly
 * nthreads threads (nested in another parallel region, a thread limit): the task's threads wait for
 * each other every step, so all of them must run at once. */
static void team_entry(void *data) {
    team_job_t *job = (team_job_t *)data;
    if (job->num_threads() != job->task->nthreads) {
        atomic_store_explicit(&job->short_team, 1, memory_order_relaxed);
        return;
    }
    job->task->run(job->task->arg, job->thread_num());
}

/* Run T on the registered team; 0 when there is none or it was not of T's size (nothing ran). */
static int team_run(const pool_task_t *T) {
    const team_parallel_fn parallel = atomic_load_explicit(&team_parallel, memory_order_acquire);
    if (!parallel) return 0;
    team_job_t job = {T, team_num_threads, team_thread_num, 0};
    parallel(team_entry, &job, (unsigned)T->nthreads, 0);
    return !atomic_load_explicit(&job.short_team, memory_order_relaxed);
}

int pool_run(const pool_task_t *T) {
    if (T->team && team_run(T)) return 1;
    if (T->nthreads - 1 > MAX_POOL_WORKERS || pthread_mutex_trylock(&pool.use) != 0) return 0;
    if (pool.size == 0 && sched_getaffinity(0, sizeof pool.allowed, &pool.allowed) != 0) CPU_ZERO(&pool.allowed);
    while (pool.size < T->nthreads - 1) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pool.born_at[pool.size + 1] = atomic_load_explicit(&pool.generation, memory_order_relaxed);
        const int ok = pthread_create(&thread, &attr, pool_worker, (void *)(intptr_t)(pool.size + 1)) == 0;
        pthread_attr_destroy(&attr);
        if (!ok) {
            pthread_mutex_unlock(&pool.use);
            return 0;
        }
        pool.size++;
    }
    pool.task = T;
    pool.caller_cpu = sched_getcpu();
    atomic_store_explicit(&pool.remaining, pool.size, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_mutex_lock(&pool.sleep);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.sleep);
    T->run(T->arg, 0);
    int spins = 0;
    while (atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0) {
        if (++spins < SPINS_BEFORE_YIELD)
            cpu_relax();
        else {
            sched_yield();
            spins = 0;
        }
    }
    pthread_mutex_unlock(&pool.use);
    return 1;
}

int pool_set_pinning(int enabled) {
    return atomic_exchange(&pin_workers, enabled);
}

long pool_worker_thread_id(int index) { return atomic_load(&pool.thread_id[index]); }

void pool_init(void) { pthread_atfork(NULL, NULL, after_fork_in_child); }

/*
 * packcheck allocation tracker: an LD_PRELOAD interposer for the C heap.
 *
 * Built by harness/native/alloc-tracker.ts and preloaded into the child
 * process that loads a native pack. It forwards every heap call to the next
 * definition (glibc) and, while tracking is enabled, remembers the blocks
 * that the *tracking thread* allocates, each under a fresh sequence number.
 * A registration's `user_data` is identified by that sequence number, not by
 * its address: a freed address is often handed out again by the next malloc
 * (docs: ABI.md, "The vtable ABI (native)", point 6).
 *
 * Rules (see pct_* below for the control API):
 *
 *  - Allocation side: a block is tracked only if it was allocated while
 *    tracking is on, by the thread that called pct_enable(1). Every tracked
 *    allocation gets a new u64 sequence number (never reused, never reset).
 *  - Free side: once a block is tracked, its free is observed from any thread
 *    and whether or not tracking is still on, so the live table never goes
 *    stale. Freed allocations go to a bounded history (the last HIST_N freed
 *    allocations) that keeps seq -> free count and address -> last seq.
 *  - Any allocation that returns an address found in the "recently freed"
 *    table (from any thread, tracking on or off) removes that address from
 *    it: the address is somebody's block again, so a later free of it is
 *    legitimate.
 *  - Stray frees, while tracking is on: a free (or realloc-move) by the
 *    tracking thread of a pointer that is not a live tracked block is recorded
 *    (seq 0 when the pointer was never tracked: usually a block allocated
 *    before pct_enable, which is benign). A free, by any thread, of an address
 *    that was a tracked block, has been freed and has not been handed out
 *    since, is a double free: it is recorded with the seq the block last had,
 *    its free count goes up, and it is NOT forwarded to glibc (whose tcache
 *    check would abort the process), so the harness can report it. A realloc
 *    of such a pointer is treated alike and returns NULL (errno ENOMEM).
 *  - While tracking is off nothing is swallowed: a double free then reaches
 *    glibc, which may abort.
 *
 * Bootstrap: dlsym itself may allocate; while the real functions are being
 * looked up, requests are served from a small static arena whose blocks are
 * never handed to the real free.
 *
 * The tables live in anonymous mmap memory and are guarded by one mutex; the
 * interposed functions never call each other through the interposed path
 * while holding it (a thread-local flag forwards any nested call directly).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PCT_API __attribute__((visibility("default")))
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* ------------------------------------------------------------------ */
/* Real functions                                                       */
/* ------------------------------------------------------------------ */

typedef void *(*malloc_fn)(size_t);
typedef void (*free_fn)(void *);
typedef void *(*calloc_fn)(size_t, size_t);
typedef void *(*realloc_fn)(void *, size_t);
typedef int (*posix_memalign_fn)(void **, size_t, size_t);
typedef void *(*aligned_alloc_fn)(size_t, size_t);
typedef void *(*memalign_fn)(size_t, size_t);
typedef void *(*valloc_fn)(size_t);
typedef void *(*pvalloc_fn)(size_t);
typedef size_t (*usable_size_fn)(void *);

static struct {
    free_fn free;
    malloc_fn malloc;
    calloc_fn calloc;
    realloc_fn realloc;
    posix_memalign_fn posix_memalign;
    aligned_alloc_fn aligned_alloc;
    memalign_fn memalign;
    valloc_fn valloc;
    pvalloc_fn pvalloc;
    usable_size_fn malloc_usable_size;
} real;

static volatile int g_initializing;
static volatile int g_initialized;

/* ------------------------------------------------------------------ */
/* Bootstrap arena                                                      */
/* ------------------------------------------------------------------ */

#define ARENA_SIZE (256 * 1024)
#define ARENA_HDR 16
static unsigned char g_arena[ARENA_SIZE] __attribute__((aligned(4096)));
static size_t g_arena_used;

static int in_arena(const void *p) {
    const unsigned char *c = (const unsigned char *)p;
    return c >= g_arena && c < g_arena + ARENA_SIZE;
}

/* The arena is zero-initialised and never reused, so its blocks are zeroed
 * (which serves calloc too). */
static void *arena_alloc(size_t n, size_t align) {
    if (align < 16) align = 16;
    if (align > 4096 || (align & (align - 1)) != 0) return NULL;
    if (n > ARENA_SIZE) return NULL;
    size_t old = __atomic_load_n(&g_arena_used, __ATOMIC_RELAXED);
    for (;;) {
        size_t start = (old + ARENA_HDR + align - 1) & ~(align - 1);
        size_t end = start + ((n + 15) & ~(size_t)15);
        if (end > ARENA_SIZE) return NULL;
        if (__atomic_compare_exchange_n(&g_arena_used, &old, end, 0, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            unsigned char *p = g_arena + start;
            *(size_t *)(p - ARENA_HDR) = n;
            return p;
        }
    }
}

static size_t arena_size(const void *p) {
    return *(const size_t *)((const unsigned char *)p - ARENA_HDR);
}

static void init(void) {
    if (g_initialized || g_initializing) return;
    g_initializing = 1;
    /* free first: a free during the remaining look-ups can then be forwarded. */
    real.free = (free_fn)dlsym(RTLD_NEXT, "free");
    real.malloc = (malloc_fn)dlsym(RTLD_NEXT, "malloc");
    real.calloc = (calloc_fn)dlsym(RTLD_NEXT, "calloc");
    real.realloc = (realloc_fn)dlsym(RTLD_NEXT, "realloc");
    real.posix_memalign = (posix_memalign_fn)dlsym(RTLD_NEXT, "posix_memalign");
    real.aligned_alloc = (aligned_alloc_fn)dlsym(RTLD_NEXT, "aligned_alloc");
    real.memalign = (memalign_fn)dlsym(RTLD_NEXT, "memalign");
    real.valloc = (valloc_fn)dlsym(RTLD_NEXT, "valloc");
    real.pvalloc = (pvalloc_fn)dlsym(RTLD_NEXT, "pvalloc");
    real.malloc_usable_size = (usable_size_fn)dlsym(RTLD_NEXT, "malloc_usable_size");
    if (!real.free || !real.malloc || !real.calloc || !real.realloc) {
        static const char msg[] = "packcheck alloc-tracker: cannot find the real malloc/free\n";
        ssize_t ignored = write(2, msg, sizeof msg - 1);
        (void)ignored;
        abort();
    }
    g_initializing = 0;
    g_initialized = 1;
}

/* ------------------------------------------------------------------ */
/* Hash tables (open addressing, linear probing, backward-shift delete) */
/* ------------------------------------------------------------------ */

typedef struct {
    uint64_t key; /* 0 = empty */
    uint64_t a;
    uint64_t b;
} slot_t;

typedef struct {
    slot_t *s;
    uint64_t cap; /* power of two */
    uint64_t n;
    unsigned bits;
} table_t;

static inline uint64_t hash_key(uint64_t k, unsigned bits) {
    return (k * 0x9E3779B97F4A7C15ULL) >> (64 - bits);
}

static void *map_zeroed(size_t bytes) {
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return m == MAP_FAILED ? NULL : m;
}

static int tab_init(table_t *t, unsigned bits) {
    slot_t *s = (slot_t *)map_zeroed(sizeof(slot_t) << bits);
    if (!s) return -1;
    t->s = s;
    t->bits = bits;
    t->cap = (uint64_t)1 << bits;
    t->n = 0;
    return 0;
}

static slot_t *tab_find(const table_t *t, uint64_t key) {
    if (!t->s || t->n == 0) return NULL;
    uint64_t mask = t->cap - 1, i = hash_key(key, t->bits);
    for (;;) {
        slot_t *e = &t->s[i];
        if (e->key == key) return e;
        if (e->key == 0) return NULL;
        i = (i + 1) & mask;
    }
}

/* Returns the slot for key (existing or newly claimed); the caller ensures room. */
static slot_t *tab_claim(table_t *t, uint64_t key) {
    uint64_t mask = t->cap - 1, i = hash_key(key, t->bits);
    for (;;) {
        slot_t *e = &t->s[i];
        if (e->key == key) return e;
        if (e->key == 0) {
            e->key = key;
            e->a = e->b = 0;
            t->n++;
            return e;
        }
        i = (i + 1) & mask;
    }
}

static void tab_delete(table_t *t, slot_t *e) {
    uint64_t mask = t->cap - 1;
    uint64_t i = (uint64_t)(e - t->s), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (t->s[j].key == 0) break;
        uint64_t k = hash_key(t->s[j].key, t->bits);
        /* The entry at j may stay if its home k lies cyclically in (i, j]. */
        int stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (stays) continue;
        t->s[i] = t->s[j];
        i = j;
    }
    t->s[i].key = 0;
    t->s[i].a = t->s[i].b = 0;
    t->n--;
}

/* Grows t so that one more entry keeps the load at or under 1/2. */
static int tab_reserve(table_t *t, unsigned min_bits) {
    if (!t->s) return tab_init(t, min_bits);
    if ((t->n + 1) * 2 <= t->cap) return 0;
    table_t bigger;
    if (tab_init(&bigger, t->bits + 1) != 0) return -1;
    for (uint64_t i = 0; i < t->cap; i++) {
        if (t->s[i].key == 0) continue;
        slot_t *e = tab_claim(&bigger, t->s[i].key);
        e->a = t->s[i].a;
        e->b = t->s[i].b;
    }
    munmap(t->s, sizeof(slot_t) * t->cap);
    *t = bigger;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Tracker state (all guarded by g_lock, counters also read lock-free)  */
/* ------------------------------------------------------------------ */

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

static int g_tracking;            /* atomic */
static pthread_t g_tracker;       /* valid while g_tracking */
static uint64_t g_seq;            /* last sequence number handed out */
static uint64_t g_live_n;         /* atomic mirror of g_live.n */
static uint64_t g_freed_addr_n;   /* atomic mirror of g_by_addr.n */
static uint64_t g_untracked_oom;  /* allocations not tracked because a table could not grow */

/* Live tracked blocks: key = address, a = seq, b = size. */
static table_t g_live;

/* History of freed tracked allocations, in the order they were first freed. */
#define HIST_BITS 16
#define HIST_N ((uint64_t)1 << HIST_BITS)
typedef struct {
    uint64_t seq; /* 0 = empty */
    uint64_t ptr;
    uint64_t size;
    uint64_t frees;
} hist_t;
static hist_t *g_hist;
static uint64_t g_hist_pushed;
static table_t g_by_seq;  /* key = seq, a = history index */
static table_t g_by_addr; /* key = address, a = history index (freed, not handed out since) */

/* Stray frees since the last pct_enable(1). */
#define STRAY_CAP 16384
#define STRAY_UNKNOWN_CAP 8192 /* seq-0 events may use only this many slots */
static struct {
    uint64_t ptr;
    uint64_t seq;
} g_stray[STRAY_CAP];
static int g_stray_n;
static uint64_t g_stray_dropped;

static __thread int t_busy __attribute__((tls_model("initial-exec")));

static inline int tracking_here(void) {
    return __atomic_load_n(&g_tracking, __ATOMIC_ACQUIRE) && pthread_equal(pthread_self(), g_tracker);
}

static inline int tracking_on(void) { return __atomic_load_n(&g_tracking, __ATOMIC_ACQUIRE); }

/* Whether a heap call has to look at the tables at all. */
static inline int need_slow(void) {
    if (__atomic_load_n(&g_live_n, __ATOMIC_RELAXED) != 0) return 1;
    if (__atomic_load_n(&g_freed_addr_n, __ATOMIC_RELAXED) != 0) return 1;
    return __atomic_load_n(&g_tracking, __ATOMIC_RELAXED) != 0;
}

static void sync_counts(void) {
    __atomic_store_n(&g_live_n, g_live.n, __ATOMIC_RELAXED);
    __atomic_store_n(&g_freed_addr_n, g_by_addr.n, __ATOMIC_RELAXED);
}

static void stray_record(uint64_t ptr, uint64_t seq) {
    int cap = seq ? STRAY_CAP : STRAY_UNKNOWN_CAP;
    if (g_stray_n >= cap) {
        g_stray_dropped++;
        return;
    }
    g_stray[g_stray_n].ptr = ptr;
    g_stray[g_stray_n].seq = seq;
    g_stray_n++;
}

static int hist_ready(void) {
    if (g_hist) return 1;
    hist_t *h = (hist_t *)map_zeroed(sizeof(hist_t) * HIST_N);
    if (!h) return 0;
    if (tab_init(&g_by_seq, HIST_BITS + 1) != 0) {
        munmap(h, sizeof(hist_t) * HIST_N);
        return 0;
    }
    if (tab_init(&g_by_addr, HIST_BITS + 1) != 0) {
        munmap(h, sizeof(hist_t) * HIST_N);
        munmap(g_by_seq.s, sizeof(slot_t) * g_by_seq.cap);
        g_by_seq.s = NULL;
        return 0;
    }
    g_hist = h;
    return 1;
}

/* Records the first free of a tracked allocation. Lock held. */
static void hist_push(uint64_t seq, uint64_t ptr, uint64_t size) {
    if (!hist_ready()) return;
    uint64_t idx = g_hist_pushed++ & (HIST_N - 1);
    hist_t *h = &g_hist[idx];
    if (h->seq) {
        slot_t *e = tab_find(&g_by_seq, h->seq);
        if (e && e->a == idx) tab_delete(&g_by_seq, e);
        e = tab_find(&g_by_addr, h->ptr);
        if (e && e->a == idx) tab_delete(&g_by_addr, e);
    }
    h->seq = seq;
    h->ptr = ptr;
    h->size = size;
    h->frees = 1;
    tab_claim(&g_by_seq, seq)->a = idx;
    tab_claim(&g_by_addr, ptr)->a = idx;
}

/* A live tracked block has been freed (or moved away by realloc). Lock held. */
static void live_freed(slot_t *e) {
    uint64_t ptr = e->key, seq = e->a, size = e->b;
    tab_delete(&g_live, e);
    hist_push(seq, ptr, size);
}

/* q has just been returned by the real allocator. Lock held. */
static void on_alloc_locked(void *q, size_t n, int track) {
    uint64_t key = (uint64_t)(uintptr_t)q;
    slot_t *e = tab_find(&g_live, key);
    /* A live entry at a fresh address means the block went away by a path
     * this interposer did not see; count that as its free. */
    if (e) live_freed(e);
    e = tab_find(&g_by_addr, key);
    if (e) tab_delete(&g_by_addr, e);
    if (track) {
        if (tab_reserve(&g_live, 12) != 0) {
            g_untracked_oom++;
        } else {
            e = tab_claim(&g_live, key);
            e->a = ++g_seq;
            e->b = n;
        }
    }
    sync_counts();
}

static void on_alloc(void *q, size_t n) {
    pthread_mutex_lock(&g_lock);
    on_alloc_locked(q, n, tracking_here());
    pthread_mutex_unlock(&g_lock);
}

/* Decides what to do with free(p); returns 1 to forward it to the real free. */
static int on_free(void *p) {
    uint64_t key = (uint64_t)(uintptr_t)p;
    int forward = 1;
    pthread_mutex_lock(&g_lock);
    slot_t *e = tab_find(&g_live, key);
    if (e) {
        live_freed(e);
    } else if (tracking_on()) {
        slot_t *f = tab_find(&g_by_addr, key);
        if (f) {
            hist_t *h = &g_hist[f->a];
            h->frees++;
            stray_record(key, h->seq);
            forward = 0; /* double free: keep the process alive to report it */
        } else if (tracking_here()) {
            stray_record(key, 0);
        }
    }
    sync_counts();
    pthread_mutex_unlock(&g_lock);
    return forward;
}

/* ------------------------------------------------------------------ */
/* Interposed functions                                                 */
/* ------------------------------------------------------------------ */

#define ENSURE_INIT()                                                                              \
    do {                                                                                           \
        if (UNLIKELY(!g_initialized)) init();                                                      \
    } while (0)

PCT_API void *malloc(size_t n) {
    if (UNLIKELY(!g_initialized)) {
        if (g_initializing) return arena_alloc(n, 16);
        init();
    }
    if (LIKELY(!need_slow()) || t_busy) return real.malloc(n);
    t_busy = 1;
    void *q = real.malloc(n);
    if (q) on_alloc(q, n);
    t_busy = 0;
    return q;
}

PCT_API void free(void *p) {
    if (!p || in_arena(p)) return;
    if (UNLIKELY(!real.free)) {
        init();
        if (!real.free) return; /* cannot happen after init; leak rather than crash */
    }
    if (LIKELY(!need_slow()) || t_busy) {
        real.free(p);
        return;
    }
    t_busy = 1;
    if (on_free(p)) real.free(p);
    t_busy = 0;
}

PCT_API void *calloc(size_t nm, size_t sz) {
    if (UNLIKELY(!g_initialized)) {
        if (g_initializing) {
            if (sz && nm > SIZE_MAX / sz) return NULL;
            return arena_alloc(nm * sz, 16);
        }
        init();
    }
    if (LIKELY(!need_slow()) || t_busy) return real.calloc(nm, sz);
    t_busy = 1;
    void *q = real.calloc(nm, sz);
    if (q) on_alloc(q, nm * sz);
    t_busy = 0;
    return q;
}

static void *do_realloc(void *p, size_t n) {
    if (!p) return malloc(n);
    if (in_arena(p)) {
        if (n == 0) return NULL;
        void *q = malloc(n);
        if (q) {
            size_t old = arena_size(p);
            memcpy(q, p, old < n ? old : n);
        }
        return q;
    }
    ENSURE_INIT();
    if (LIKELY(!need_slow()) || t_busy) return real.realloc(p, n);
    t_busy = 1;
    uint64_t key = (uint64_t)(uintptr_t)p;
    void *q;
    pthread_mutex_lock(&g_lock);
    slot_t *e = tab_find(&g_live, key);
    if (e) {
        /* A tracked block: reallocate under the lock so nobody can be handed
         * the old address before the tables say it is free. */
        q = real.realloc(p, n);
        if (q == p) {
            e->b = n;
        } else if (q) {
            live_freed(e);
            on_alloc_locked(q, n, tracking_here());
        } else if (n == 0) {
            live_freed(e); /* glibc: realloc(p, 0) frees p and returns NULL */
        }
        /* else: failure, p unchanged */
        sync_counts();
        pthread_mutex_unlock(&g_lock);
        t_busy = 0;
        return q;
    }
    if (tracking_on()) {
        slot_t *f = tab_find(&g_by_addr, key);
        if (f) {
            hist_t *h = &g_hist[f->a];
            h->frees++;
            stray_record(key, h->seq);
            pthread_mutex_unlock(&g_lock);
            t_busy = 0;
            errno = ENOMEM;
            return NULL; /* realloc of a freed block: reported, not forwarded */
        }
    }
    pthread_mutex_unlock(&g_lock);
    q = real.realloc(p, n);
    if (q != p) {
        pthread_mutex_lock(&g_lock);
        int here = tracking_here();
        if (here && (q || n == 0)) stray_record(key, 0); /* realloc-move of an untracked block */
        if (q) on_alloc_locked(q, n, here);
        pthread_mutex_unlock(&g_lock);
    }
    t_busy = 0;
    return q;
}

PCT_API void *realloc(void *p, size_t n) { return do_realloc(p, n); }

PCT_API void *reallocarray(void *p, size_t nm, size_t sz) {
    if (sz && nm > SIZE_MAX / sz) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, nm * sz);
}

PCT_API int posix_memalign(void **out, size_t align, size_t n) {
    if (UNLIKELY(!g_initialized)) {
        if (g_initializing) {
            void *q = arena_alloc(n, align);
            if (!q) return ENOMEM;
            *out = q;
            return 0;
        }
        init();
    }
    if (!real.posix_memalign) return ENOMEM;
    if (LIKELY(!need_slow()) || t_busy) return real.posix_memalign(out, align, n);
    t_busy = 1;
    int rc = real.posix_memalign(out, align, n);
    if (rc == 0 && *out) on_alloc(*out, n);
    t_busy = 0;
    return rc;
}

/* aligned_alloc, memalign, valloc and pvalloc share one shape. */
#define ALIGNED_WRAPPER(NAME, ARENA_ALIGN, PARAMS, ARGS, SIZE)                                    \
    PCT_API void *NAME PARAMS {                                                                    \
        if (UNLIKELY(!g_initialized)) {                                                            \
            if (g_initializing) return arena_alloc(SIZE, ARENA_ALIGN);                             \
            init();                                                                                \
        }                                                                                          \
        if (!real.NAME) {                                                                          \
            errno = ENOMEM;                                                                        \
            return NULL;                                                                           \
        }                                                                                          \
        if (LIKELY(!need_slow()) || t_busy) return real.NAME ARGS;                                 \
        t_busy = 1;                                                                                \
        void *q = real.NAME ARGS;                                                                  \
        if (q) on_alloc(q, SIZE);                                                                  \
        t_busy = 0;                                                                                \
        return q;                                                                                  \
    }

ALIGNED_WRAPPER(aligned_alloc, align, (size_t align, size_t n), (align, n), n)
ALIGNED_WRAPPER(memalign, align, (size_t align, size_t n), (align, n), n)
ALIGNED_WRAPPER(valloc, 4096, (size_t n), (n), n)
ALIGNED_WRAPPER(pvalloc, 4096, (size_t n), (n), n)

PCT_API size_t malloc_usable_size(void *p) {
    if (!p) return 0;
    if (in_arena(p)) return arena_size(p);
    ENSURE_INIT();
    return real.malloc_usable_size ? real.malloc_usable_size(p) : 0;
}

/* C23 sized frees (newer glibc): make sure they come through here too. */
PCT_API void free_sized(void *p, size_t n) {
    (void)n;
    free(p);
}

PCT_API void free_aligned_sized(void *p, size_t align, size_t n) {
    (void)align;
    (void)n;
    free(p);
}

/* ------------------------------------------------------------------ */
/* fork: never leave the child with a lock held by a thread it lacks    */
/* ------------------------------------------------------------------ */

static void fork_prepare(void) { pthread_mutex_lock(&g_lock); }
static void fork_parent(void) { pthread_mutex_unlock(&g_lock); }
static void fork_child(void) {
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    memcpy(&g_lock, &fresh, sizeof fresh);
    __atomic_store_n(&g_tracking, 0, __ATOMIC_RELEASE);
}

__attribute__((constructor)) static void pct_ctor(void) {
    ENSURE_INIT();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* ------------------------------------------------------------------ */
/* Control API                                                          */
/* ------------------------------------------------------------------ */

PCT_API int pct_present(void) { return 1; }

PCT_API void pct_enable(int on) {
    pthread_mutex_lock(&g_lock);
    if (on) {
        g_tracker = pthread_self();
        g_stray_n = 0;
        g_stray_dropped = 0;
        __atomic_store_n(&g_tracking, 1, __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&g_tracking, 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&g_lock);
}

PCT_API uint64_t pct_seq_of(void *p) {
    pthread_mutex_lock(&g_lock);
    slot_t *e = tab_find(&g_live, (uint64_t)(uintptr_t)p);
    uint64_t seq = e ? e->a : 0;
    pthread_mutex_unlock(&g_lock);
    return seq;
}

/* Lock held. */
static int live_seq_locked(uint64_t seq) {
    if (seq == 0 || seq > g_seq || !g_live.s) return 0;
    if (tab_find(&g_by_seq, seq)) return 0; /* freed (seqs are never reused) */
    for (uint64_t i = 0; i < g_live.cap; i++)
        if (g_live.s[i].key != 0 && g_live.s[i].a == seq) return 1;
    return 0;
}

PCT_API int pct_is_live_seq(uint64_t seq) {
    pthread_mutex_lock(&g_lock);
    int live = live_seq_locked(seq);
    pthread_mutex_unlock(&g_lock);
    return live;
}

/* Frees seen for that allocation: 0 while live, 1 after a free, 2+ for
 * double frees; -1 when unknown (never tracked, or out of the history). */
PCT_API int pct_free_count(uint64_t seq) {
    pthread_mutex_lock(&g_lock);
    int count = -1;
    slot_t *e = tab_find(&g_by_seq, seq);
    if (e) {
        uint64_t f = g_hist[e->a].frees;
        count = f > 0x7fffffff ? 0x7fffffff : (int)f;
    } else if (live_seq_locked(seq)) {
        count = 0;
    }
    pthread_mutex_unlock(&g_lock);
    return count;
}

PCT_API int pct_stray_frees(void) {
    pthread_mutex_lock(&g_lock);
    int n = g_stray_n;
    pthread_mutex_unlock(&g_lock);
    return n;
}

PCT_API void *pct_stray_free_ptr(int i) {
    pthread_mutex_lock(&g_lock);
    void *p = (i >= 0 && i < g_stray_n) ? (void *)(uintptr_t)g_stray[i].ptr : NULL;
    pthread_mutex_unlock(&g_lock);
    return p;
}

PCT_API uint64_t pct_stray_free_seq(int i) {
    pthread_mutex_lock(&g_lock);
    uint64_t s = (i >= 0 && i < g_stray_n) ? g_stray[i].seq : 0;
    pthread_mutex_unlock(&g_lock);
    return s;
}

/* Stray-free events not kept because the event buffer was full. */
PCT_API uint64_t pct_stray_frees_dropped(void) {
    pthread_mutex_lock(&g_lock);
    uint64_t n = g_stray_dropped;
    pthread_mutex_unlock(&g_lock);
    return n;
}

PCT_API uint64_t pct_live_count(void) {
    pthread_mutex_lock(&g_lock);
    uint64_t n = g_live.n;
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* The last sequence number handed out (0 before any tracked allocation). */
PCT_API uint64_t pct_last_seq(void) {
    pthread_mutex_lock(&g_lock);
    uint64_t s = g_seq;
    pthread_mutex_unlock(&g_lock);
    return s;
}

/* If p was a tracked block, has been freed and has not been handed out since:
 * the seq it last belonged to; else 0. A free of p now would be a double free. */
PCT_API uint64_t pct_freed_seq_at(void *p) {
    pthread_mutex_lock(&g_lock);
    slot_t *e = tab_find(&g_by_addr, (uint64_t)(uintptr_t)p);
    uint64_t seq = e ? g_hist[e->a].seq : 0;
    pthread_mutex_unlock(&g_lock);
    return seq;
}

/* Size requested for the live tracked block at exactly p, or 0. */
PCT_API uint64_t pct_size_of(void *p) {
    pthread_mutex_lock(&g_lock);
    slot_t *e = tab_find(&g_live, (uint64_t)(uintptr_t)p);
    uint64_t n = e ? e->b : 0;
    pthread_mutex_unlock(&g_lock);
    return n;
}

/* Allocations that should have been tracked but were not (no memory for the table). */
PCT_API uint64_t pct_untracked_count(void) {
    pthread_mutex_lock(&g_lock);
    uint64_t n = g_untracked_oom;
    pthread_mutex_unlock(&g_lock);
    return n;
}

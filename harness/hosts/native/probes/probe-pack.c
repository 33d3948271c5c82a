/*
 * A probe pack for native host conformance (packcheck host --native).
 *
 * One template, built once per scenario by probe-packs.ts, which puts a few
 * #defines in front of it:
 *
 *   PROBE_NAME     the probe's name in its side-channel lines ("conforming", …)
 *   PROBE_ABI      what reflow_pack_abi_version() answers (the host's version,
 *                  or another one for the version probe)
 *   PROBE_REGS     the registrations, as REG(label, id, factory, drop) entries
 *   PROBE_RETURN   (optional) what reflow_pack_register returns whatever the
 *                  host answered (the rollback probe's Internal, -99)
 *
 * It registers the way an SDK-built pack does (ABI.md, "What the SDK-built
 * pack does"): one heap user_data block per registration, host_data re-read
 * from the vtable before every call, the first non-zero answer kept as the
 * return value, registration going on after a rejection. What it does NOT do
 * is give any block back to malloc: a rejected block is "reclaimed" (the
 * pack's, from then on) and a dropped one is marked dropped, but both stay
 * allocated until the process ends, so no later block can get the same
 * address and a late or second call with that address is still told apart.
 * Any free of such a block is then the host's doing, and the allocation
 * tracker (preloaded into the adapter process) counts it.
 *
 * Everything the probe receives is reported on a side channel the adapter
 * never sees: one JSON object per line appended to the file named by
 * PACKCHECK_PROBE_LOG, each line one write() on an O_APPEND descriptor so
 * lines of several probes in one process never interleave.
 *
 * The factory returns what a Rust host expects: a Box<PackActorHandle>, a
 * heap block holding an Arc<dyn Actor> (a data pointer to the Arc's inner
 * block, a pointer to the trait object's vtable). The inner block is static,
 * its strong count so high that no number of drops brings it to zero, and
 * the vtable's drop_in_place does nothing, so a Rust host may take the
 * handle and drop it (which frees the 16-byte box with free()). Every actor
 * method slot reports the call and aborts: a host must call none.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PROBE_NAME
#error "PROBE_NAME must be defined"
#endif
#ifndef PROBE_ABI
#error "PROBE_ABI must be defined"
#endif
#ifndef PROBE_REGS
#define PROBE_REGS
#endif

#define EXPORT __attribute__((visibility("default")))

typedef void *(*factory_fn)(void *user_data);
typedef void (*drop_fn)(void *user_data);
typedef struct {
    void *host_data;
    int32_t (*register_template)(void *host_data, const char *id, factory_fn factory, drop_fn drop,
                                 void *user_data);
} host_vtable;

/* ---------------------------------------------------------------- */
/* Side channel                                                       */
/* ---------------------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    const char *file = getenv("PACKCHECK_PROBE_LOG");
    if (!file || !*file) return;
    char line[1024];
    int n = snprintf(line, sizeof line, "{\"probe\":\"%s\",\"pid\":%ld,", PROBE_NAME, (long)getpid());
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(line + n, sizeof line - (size_t)n - 2, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '}';
    line[n++] = '\n';
    /* Opened per line: the host may close or reuse descriptors between calls. */
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return;
    ssize_t ignored = write(fd, line, (size_t)n);
    (void)ignored;
    close(fd);
}

/* ---------------------------------------------------------------- */
/* The allocation tracker, when it is preloaded                       */
/* ---------------------------------------------------------------- */

static struct {
    int (*present)(void);
    void (*enable)(int);
    uint64_t (*seq_of)(void *);
    int (*free_count)(uint64_t);
} tracker;

/* LD_PRELOAD objects are in the global scope, where a dlopened probe finds them. */
static int tracker_found(void) {
    if (tracker.present) return 1;
    tracker.present = (int (*)(void))dlsym(RTLD_DEFAULT, "pct_present");
    tracker.enable = (void (*)(int))dlsym(RTLD_DEFAULT, "pct_enable");
    tracker.seq_of = (uint64_t(*)(void *))dlsym(RTLD_DEFAULT, "pct_seq_of");
    tracker.free_count = (int (*)(uint64_t))dlsym(RTLD_DEFAULT, "pct_free_count");
    if (!tracker.present || !tracker.enable || !tracker.seq_of || !tracker.free_count || tracker.present() != 1) {
        tracker.present = NULL;
        return 0;
    }
    return 1;
}

/* ---------------------------------------------------------------- */
/* user_data blocks                                                   */
/* ---------------------------------------------------------------- */

enum { SENT = 0, ACCEPTED = 1, RECLAIMED = 2 };
#define MAX_BLOCKS 32
#define BLOCK_MAGIC 0x70726f6265626c6bULL /* "probeblk" */

typedef struct {
    uint64_t magic;
    int serial;
} block_t;

static struct {
    block_t *block;
    uint64_t seq; /* the tracker's allocation number, 0 without the tracker */
    int state;
    int drops;
} blocks[MAX_BLOCKS];
static int nblocks;

static int find_block(void *p) {
    for (int i = nblocks - 1; i >= 0; i--)
        if ((void *)blocks[i].block == p) return i;
    return -1;
}

static const char *state_name(int s) { return s == ACCEPTED ? "accepted" : s == RECLAIMED ? "reclaimed" : "sent"; }

/* ---------------------------------------------------------------- */
/* The actor handle (a Box<PackActorHandle> as Rust lays it out)       */
/* ---------------------------------------------------------------- */

static void actor_method_called(void) {
    say("\"ev\":\"actor-method\"");
    abort();
}
static void actor_drop_in_place(void *self) { (void)self; }

/* drop_in_place, size, align, then the trait's methods (however many: all trap). */
static void *actor_vtable[3 + 64] = {(void *)actor_drop_in_place, (void *)0, (void *)1};
/* ArcInner: strong, weak, then the (zero-sized) actor. */
static size_t arc_inner[2] __attribute__((aligned(16))) = {SIZE_MAX / 4, 1};

static void *new_handle(void) {
    for (int i = 3; i < 3 + 64; i++) actor_vtable[i] = (void *)actor_method_called;
    void **handle = (void **)malloc(2 * sizeof(void *));
    if (!handle) return NULL;
    handle[0] = arc_inner;
    handle[1] = actor_vtable;
    return handle;
}

__attribute__((unused)) static void *probe_factory(void *user_data) {
    int i = find_block(user_data);
    void *h = new_handle();
    say("\"ev\":\"factory\",\"block\":%d,\"state\":\"%s\",\"handle\":%s", i < 0 ? -1 : i,
        i < 0 ? "unknown" : state_name(blocks[i].state), h ? "true" : "false");
    return h;
}

__attribute__((unused)) static void *null_factory(void *user_data) {
    int i = find_block(user_data);
    say("\"ev\":\"factory\",\"block\":%d,\"state\":\"%s\",\"handle\":false", i < 0 ? -1 : i,
        i < 0 ? "unknown" : state_name(blocks[i].state));
    return NULL;
}

__attribute__((unused)) static void probe_drop(void *user_data) {
    int i = find_block(user_data);
    if (i < 0) {
        say("\"ev\":\"drop\",\"block\":-1,\"ptr\":\"%p\"", user_data);
        return;
    }
    blocks[i].drops++;
    say("\"ev\":\"drop\",\"block\":%d,\"state\":\"%s\",\"drops\":%d", i, state_name(blocks[i].state),
        blocks[i].drops);
}

/* ---------------------------------------------------------------- */
/* Exports                                                            */
/* ---------------------------------------------------------------- */

__attribute__((constructor)) static void probe_loaded(void) {
    say("\"ev\":\"dlopen\",\"tracker\":%s", tracker_found() ? "true" : "false");
}

/* At dlclose, or at exit when the host never unloads: how often the tracker saw each block freed. */
__attribute__((destructor)) static void probe_unloaded(void) {
    for (int i = 0; i < nblocks; i++) {
        int frees = tracker.present && blocks[i].seq ? tracker.free_count(blocks[i].seq) : -1;
        say("\"ev\":\"heap\",\"block\":%d,\"state\":\"%s\",\"drops\":%d,\"frees\":%d", i,
            state_name(blocks[i].state), blocks[i].drops, frees);
    }
    say("\"ev\":\"unloaded\"");
}

EXPORT uint32_t reflow_pack_abi_version(void) {
    say("\"ev\":\"version\",\"answer\":%u", (unsigned)(PROBE_ABI));
    return (uint32_t)(PROBE_ABI);
}

static int32_t first_failure;

static void reg(host_vtable *vt, const char *label, const char *id, factory_fn factory, drop_fn drop) {
    if (nblocks == MAX_BLOCKS) return;
    /* Tracking is per thread: the thread registering is the one whose blocks are counted. */
    if (tracker.present) tracker.enable(1);
    block_t *b = (block_t *)malloc(sizeof *b);
    if (!b) return;
    int i = nblocks++;
    b->magic = BLOCK_MAGIC;
    b->serial = i;
    blocks[i].block = b;
    blocks[i].seq = tracker.present ? tracker.seq_of(b) : 0;
    blocks[i].state = SENT;
    void *host_data = vt->host_data; /* re-read before every call, as the SDK does */
    say("\"ev\":\"call\",\"block\":%d,\"label\":\"%s\",\"host_data\":\"%p\",\"drop\":%s", i, label, host_data,
        drop ? "true" : "false");
    int32_t status = vt->register_template(host_data, id, factory, drop, b);
    blocks[i].state = status == 0 ? ACCEPTED : RECLAIMED;
    if (status != 0 && first_failure == 0) first_failure = status;
    say("\"ev\":\"answer\",\"block\":%d,\"label\":\"%s\",\"status\":%d", i, label, (int)status);
}

#define REG(label, id, factory, drop) reg(vt, label, id, factory, drop);

EXPORT int32_t reflow_pack_register(host_vtable *vt) {
    int tracked = tracker_found();
    if (!vt) {
        say("\"ev\":\"register\",\"vtable\":false,\"tracker\":%s", tracked ? "true" : "false");
        return -1;
    }
    say("\"ev\":\"register\",\"vtable\":true,\"register_template\":%s,\"host_data\":\"%p\",\"tracker\":%s",
        vt->register_template ? "true" : "false", vt->host_data, tracked ? "true" : "false");
    if (!vt->register_template) return -1;
    first_failure = 0;
    PROBE_REGS
#ifdef PROBE_RETURN
    return PROBE_RETURN;
#else
    return first_failure;
#endif
}

/*
 * A native host adapter for `packcheck host --native`, in C: a small vtable
 * ABI loader (the reference host) and, behind #defines, the broken variants
 * the tests check packcheck against. native-hosts.ts builds it with cc.
 *
 * The contract (README, "Checking a native host"): run as ADAPTER PACK…, load
 * each pack in order, list its templates, create one actor per template and
 * release it without calling it, unload what can be unloaded, exit 0; each
 * event one JSON line appended to the file named by PACKCHECK_EVENTS.
 *
 * Releasing an actor: the handle is a Rust Box<PackActorHandle>; a C host
 * cannot run Rust's drop glue for it, so it calls no method and leaves the
 * handle alone (a 16-byte leak per actor, which for a loader's test run is
 * the safe choice: freeing the box with free() would be right only for a
 * pack built with the system allocator).
 *
 * HOST_ABI is this host's ABI version (compiled in, as a runtime's is).
 *
 * Variants (one defect each unless said):
 *   DROP_REJECTED      builds its record before the duplicate check and drops it on Duplicate
 *   FREE_REJECTED      frees the user_data of a registration it rejects (a double free)
 *   KEEP_FAILED        keeps the templates of a load whose register failed (no rollback)
 *   NO_VERSION_CHECK   never asks reflow_pack_abi_version
 *   ACCEPT_NULL_ID     answers 0 to a null template id
 *   DROP_TWICE         calls drop twice per registration at unload
 *   CALL_FACTORY_RESULT dereferences the handle a factory returns (crashes on NULL)
 *   BY_BASENAME        takes a pack whose file name it has seen for the one it loaded
 *   MOVING_HOST_DATA   changes vtable.host_data between register_template calls
 *   NO_UNLOAD          never unloads (drop never called)
 *   NO_TEMPLATES       forgets to report its template events
 *   HANG               never finishes its first load
 *   CRASH              segfaults after its first load
 *   MALFORMED_EVENTS   writes an event line that is not JSON
 *   DROP_PRELOAD       re-executes itself without LD_PRELOAD
 *   UPSTREAM           what ABI.md says upstream's native loader does:
 *                      DROP_REJECTED + KEEP_FAILED + BY_BASENAME + NO_UNLOAD
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOST_ABI
#error "HOST_ABI must be defined"
#endif

#ifdef UPSTREAM
#define DROP_REJECTED
#define KEEP_FAILED
#define BY_BASENAME
#define NO_UNLOAD
#endif

enum { OK = 0, NULL_ARG = -1, BAD_UTF8 = -2, DUPLICATE = -3 };

typedef void *(*factory_fn)(void *);
typedef void (*drop_fn)(void *);
typedef struct {
    void *host_data;
    int32_t (*register_template)(void *, const char *, factory_fn, drop_fn, void *);
} host_vtable;

typedef struct {
    char *name;
    factory_fn factory;
    drop_fn drop;
    void *user_data;
    int pack; /* index into packs[] */
    int live;
} template_rec;

typedef struct {
    const char *path;
    void *lib;
    int ok;
} pack_rec;

#define MAX 256
static template_rec templates[MAX];
static int ntemplates;
static pack_rec packs[MAX];
static int npacks;

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static int events_fd = -1;

static void json_str(char *out, size_t cap, const char *s) {
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = 0;
}

static void event(const char *ev, const char *path, const char *name, int ok, const char *error) {
    char line[4096], p[1500], nm[1500], er[1000];
    json_str(p, sizeof p, path);
    int n = snprintf(line, sizeof line, "{\"ev\":\"%s\",\"path\":%s", ev, p);
    if (name) {
        json_str(nm, sizeof nm, name);
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"name\":%s", nm);
    }
    if (ok >= 0) n += snprintf(line + n, sizeof line - (size_t)n, ",\"ok\":%s", ok ? "true" : "false");
    if (error) {
        json_str(er, sizeof er, error);
        n += snprintf(line + n, sizeof line - (size_t)n, ",\"error\":%s", er);
    }
    n += snprintf(line + n, sizeof line - (size_t)n, "}\n");
    if (write(events_fd, line, (size_t)n) != n) _exit(3);
}

/* ------------------------------------------------------------------ */
/* register_template                                                    */
/* ------------------------------------------------------------------ */

static int utf8_valid(const unsigned char *s) {
    while (*s) {
        unsigned char c = *s;
        int extra = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2 : (c & 0xf8) == 0xf0 ? 3 : -1;
        if (extra < 0 || (extra == 1 && c < 0xc2) || (extra == 3 && c > 0xf4)) return 0;
        uint32_t cp = c & (0x7f >> extra);
        for (int i = 1; i <= extra; i++) {
            if ((s[i] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((extra == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (extra == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return 0;
        s += extra + 1;
    }
    return 1;
}

static int find_live(const char *name) {
    for (int i = 0; i < ntemplates; i++)
        if (templates[i].live && strcmp(templates[i].name, name) == 0) return i;
    return -1;
}

/* The pack being registered; host_data points at its index. */
static int loading;
#ifdef MOVING_HOST_DATA
static host_vtable *current_vt;
#endif

static int32_t host_register(void *host_data, const char *id, factory_fn factory, drop_fn drop, void *user_data) {
#ifdef MOVING_HOST_DATA
    /* this variant keeps its state in a global and reuses the vtable's host_data slot as a call counter */
    (void)host_data;
    int pack = loading;
    current_vt->host_data = (char *)current_vt->host_data + 1;
#else
    int pack = *(int *)host_data;
#endif
#ifdef ACCEPT_NULL_ID
    if (!id) id = "(null)";
#endif
    if (!id || !factory) return NULL_ARG;
    if (!utf8_valid((const unsigned char *)id)) return BAD_UTF8;
    if (ntemplates == MAX) return -99;
#ifdef DROP_REJECTED
    /* Upstream's order: the record (whose destructor calls drop) exists before the duplicate check. */
    if (find_live(id) >= 0) {
        if (drop) drop(user_data);
        return DUPLICATE;
    }
#else
    if (find_live(id) >= 0) {
#ifdef FREE_REJECTED
        free(user_data);
#endif
        return DUPLICATE;
    }
#endif
    template_rec *t = &templates[ntemplates++];
    t->name = strdup(id);
    t->factory = factory;
    t->drop = drop;
    t->user_data = user_data;
    t->pack = pack;
    t->live = 1;
    return OK;
}

/* ------------------------------------------------------------------ */
/* Loading                                                              */
/* ------------------------------------------------------------------ */

/* Drops every registration of a pack; `at_unload` tells an unload from a failed load's rollback. */
__attribute__((unused)) static void release(int pack, int at_unload) {
    (void)at_unload;
    for (int i = 0; i < ntemplates; i++) {
        template_rec *t = &templates[i];
        if (!t->live || t->pack != pack) continue;
        if (t->drop) t->drop(t->user_data);
#ifdef DROP_TWICE
        if (t->drop && at_unload) t->drop(t->user_data);
#endif
        t->live = 0;
    }
}

static void load(const char *path) {
    static int index_of[MAX];
    int me = npacks++;
    packs[me].path = path;
    index_of[me] = me;
#ifdef BY_BASENAME
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    for (int i = 0; i < me; i++) {
        const char *other = strrchr(packs[i].path, '/') ? strrchr(packs[i].path, '/') + 1 : packs[i].path;
        if (packs[i].ok && strcmp(base, other) == 0) {
            /* "already loaded": the earlier pack's templates are listed under this path */
            event("load", path, NULL, 1, NULL);
            for (int t = 0; t < ntemplates; t++)
                if (templates[t].live && templates[t].pack == i) event("template", path, templates[t].name, -1, NULL);
            return;
        }
    }
#endif
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        event("load", path, NULL, 0, dlerror());
        return;
    }
#ifndef NO_VERSION_CHECK
    uint32_t (*version)(void) = (uint32_t(*)(void))dlsym(lib, "reflow_pack_abi_version");
    if (!version || version() != (uint32_t)(HOST_ABI)) {
        event("load", path, NULL, 0, version ? "ABI version mismatch: rebuild the pack" : "no reflow_pack_abi_version");
        dlclose(lib);
        return;
    }
#endif
    int32_t (*reg)(host_vtable *) = (int32_t(*)(host_vtable *))dlsym(lib, "reflow_pack_register");
    if (!reg) {
        event("load", path, NULL, 0, "no reflow_pack_register");
        dlclose(lib);
        return;
    }
    host_vtable vt = {&index_of[me], host_register};
    loading = me;
#ifdef MOVING_HOST_DATA
    current_vt = &vt;
#endif
#ifdef HANG
    for (;;) pause();
#endif
    int32_t status = reg(&vt);
    if (status != 0) {
        char why[64];
        snprintf(why, sizeof why, "reflow_pack_register returned %d", (int)status);
#ifndef KEEP_FAILED
        release(me, 0); /* roll back: drop what was accepted, keep none of it */
        dlclose(lib);
#endif
        event("load", path, NULL, 0, why);
        return;
    }
    packs[me].lib = lib;
    packs[me].ok = 1;
    event("load", path, NULL, 1, NULL);
#ifndef NO_TEMPLATES
    for (int i = 0; i < ntemplates; i++)
        if (templates[i].live && templates[i].pack == me) event("template", path, templates[i].name, -1, NULL);
#endif
#ifdef CRASH
    raise(SIGSEGV);
#endif
}

static void create_all(int pack) {
    for (int i = 0; i < ntemplates; i++) {
        template_rec *t = &templates[i];
        if (!t->live || t->pack != pack) continue;
        void *handle = t->factory(t->user_data);
#ifdef CALL_FACTORY_RESULT
        /* peeks into the handle: a NULL one is a segfault */
        volatile char peek = *(volatile char *)handle;
        (void)peek;
#endif
        if (handle)
            event("create", packs[pack].path, t->name, 1, NULL);
        else
            event("create", packs[pack].path, t->name, 0, "the factory returned NULL");
    }
}

int main(int argc, char **argv) {
#ifdef DROP_PRELOAD
    if (getenv("LD_PRELOAD")) {
        unsetenv("LD_PRELOAD");
        execv("/proc/self/exe", argv);
        return 4;
    }
#endif
    const char *file = getenv("PACKCHECK_EVENTS");
    if (!file) {
        fprintf(stderr, "adapter: PACKCHECK_EVENTS is not set\n");
        return 2;
    }
    events_fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (events_fd < 0) {
        perror(file);
        return 2;
    }
    printf("adapter: loading %d pack(s)\n", argc - 1);
#ifdef MALFORMED_EVENTS
    if (write(events_fd, "{\"ev\":\"load\",\"path\":\n", 21) != 21) return 3;
#endif
    for (int i = 1; i < argc; i++) load(argv[i]);
    for (int p = 0; p < npacks; p++)
        if (packs[p].ok && packs[p].lib) create_all(p);
#ifndef NO_UNLOAD
    for (int p = npacks - 1; p >= 0; p--) {
        if (!packs[p].ok || !packs[p].lib) continue;
        release(p, 1);
        dlclose(packs[p].lib);
        event("unload", packs[p].path, NULL, 1, NULL);
    }
#endif
    return 0;
}

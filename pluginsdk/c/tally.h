/*
 * tally.h: tally's callback plugin ABI (docs/abi.md) for plugins in C, in one header.
 *
 * The reader: typed accessors over the payloads tally hands a plugin, which read them in
 * place (no copies, no allocation). A string is a tally_str, a pointer into the payload and a
 * length, valid until the call returns. tally_event_read reads an event record in one pass;
 * tally_task_read, tally_stats_read and tally_host_stats_read read the records inside it;
 * tally_get, tally_next and tally_next_entry read maps and lists (a result, task arguments).
 * The reader trusts the payload to be what tally sends, as the ABI says it is.
 *
 * The exports: define TALLY_META, the plugin's metadata document (a JSON object), and
 * TALLY_ON_EVENT, the name of the function that handles an event, before including this
 * header, and it defines the module's exports. Optional hooks, by the same means:
 * TALLY_ON_CONFIGURE (the settings), TALLY_ON_RESULT (each consolidated result, for a plugin
 * whose metadata says "results": true) and TALLY_ON_CLOSE (the run is over). Each returns a
 * tally_status: TALLY_OK, or tally_fail("why %s", ...). The metadata gets a "progress"
 * field, so that tally names the event a crash happened on.
 *
 *     #define TALLY_META "{\"name\":\"hello\",\"version\":\"1.0\",\"type\":\"aggregate\"," \
 *         "\"event_schema\":1,\"events\":[\"runner_on_failed\"]}"
 *     #define TALLY_ON_EVENT on_event
 *     #include "tally.h"
 *
 *     static tally_status on_event(const tally_event *e) {
 *         tally_logf("%.*s failed", TALLY_STR_ARGS(e->host));
 *         return TALLY_OK;
 *     }
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o hello.wasm hello.c
 */
#ifndef TALLY_H
#define TALLY_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds of value (docs/abi.md, "The encoding"). */
enum tally_kind {
    TALLY_NULL, TALLY_FALSE, TALLY_TRUE, TALLY_INT, TALLY_FLOAT, TALLY_STRING, TALLY_LIST,
    TALLY_MAP, TALLY_RECORD
};

/* A value in a payload: the address of its kind byte; NULL when it is absent. */
typedef struct { const uint8_t *p; } tally_value;

/* A string in a payload: not NUL-terminated. Print it with "%.*s", TALLY_STR_ARGS(s). */
typedef struct { const char *s; uint32_t len; } tally_str;
#define TALLY_STR_ARGS(str) (int)(str).len, (str).s

/* A position in a list or a map, for tally_next and tally_next_entry. */
typedef struct { const uint8_t *p; uint32_t left; } tally_iter;

/* An event (docs/events.md). Fields the event does not have are empty, 0 or absent. */
typedef struct {
    tally_str job_id;
    int64_t seq;
    tally_str uuid, parent_uuid;
    int64_t created;     /* nanoseconds since the Unix epoch, as start and end */
    tally_str event;     /* the type: "runner_on_ok", ... */
    tally_str playbook, play, play_pattern, host;
    tally_value task;    /* a record: tally_task_read */
    bool is_conditional, ignore_errors, rescued, ignore_unreachable;
    tally_str handler, included;
    int64_t start, end;
    double duration;     /* seconds */
    tally_value res;     /* a map: the module's result */
    tally_value stats;   /* a record, on playbook_on_stats: tally_stats_read */
} tally_event;

typedef struct {
    tally_str name, action, path, uuid; /* path is file:line */
    tally_value tags;                   /* a list of strings */
    tally_value args;                   /* a map */
} tally_task;

typedef struct {
    tally_str status; /* "successful", "failed", "interrupted", ... */
    int64_t rc, start, end;
    tally_value hosts;               /* a map: host name -> record, tally_host_stats_read */
    tally_value custom_stats;        /* a map: host name -> map */
    tally_value global_custom_stats; /* a map */
} tally_stats;

typedef struct {
    int64_t ok, changed, failures, unreachable, skipped, rescued, ignored, processed;
} tally_host_stats;

typedef struct {
    tally_str job_id;
    tally_value options; /* a map: option name -> value; tally_option */
    int64_t verbosity;   /* the number of -v */
    bool color;          /* the terminal wants ANSI colours */
    tally_str limit;       /* the command line's --limit; empty when not given */
    tally_value tags;      /* its --tags, a List of Strings; absent when not given */
    tally_value skip_tags; /* its --skip-tags, the same */
} tally_settings;

/* ---- the reader ---- */

static inline uint32_t tally_u32(const uint8_t *p) {
    uint32_t n;
    memcpy(&n, p, 4); /* WebAssembly is little-endian, as the encoding */
    return n;
}

/* tally_kind_of returns v's kind, or -1 when v is absent. */
static inline int tally_kind_of(tally_value v) { return v.p ? *v.p : -1; }

/* tally_skip returns the address after the value at p. */
static inline const uint8_t *tally_skip(const uint8_t *p) {
    switch (*p) {
    case TALLY_INT: case TALLY_FLOAT: return p + 9;
    case TALLY_STRING: case TALLY_LIST: case TALLY_MAP: case TALLY_RECORD: return p + 5 + tally_u32(p + 1);
    default: return p + 1;
    }
}

/* tally_int returns an Int (a Float truncated), else 0. */
static inline int64_t tally_int(tally_value v) {
    int64_t i;
    double f;
    switch (tally_kind_of(v)) {
    case TALLY_INT: memcpy(&i, v.p + 1, 8); return i;
    case TALLY_FLOAT: memcpy(&f, v.p + 1, 8); return (int64_t)f;
    default: return 0;
    }
}

/* tally_float returns a Float (or an Int), else 0. */
static inline double tally_float(tally_value v) {
    double f;
    switch (tally_kind_of(v)) {
    case TALLY_FLOAT: memcpy(&f, v.p + 1, 8); return f;
    case TALLY_INT: return (double)tally_int(v);
    default: return 0;
    }
}

/* tally_bool returns whether v is True. */
static inline bool tally_bool(tally_value v) { return tally_kind_of(v) == TALLY_TRUE; }

/* tally_string returns a String, else the empty string. */
static inline tally_str tally_string(tally_value v) {
    if (tally_kind_of(v) != TALLY_STRING) return (tally_str){"", 0};
    return (tally_str){(const char *)v.p + 5, tally_u32(v.p + 1)};
}

/* tally_is reports whether s is the NUL-terminated word. */
static inline bool tally_is(tally_str s, const char *word) {
    return strlen(word) == s.len && memcmp(s.s, word, s.len) == 0;
}

/* tally_len returns the number of items of a List or a Map, else 0. */
static inline uint32_t tally_len(tally_value v) {
    int k = tally_kind_of(v);
    return k == TALLY_LIST || k == TALLY_MAP ? tally_u32(v.p + 5) : 0;
}

/* tally_items starts an iteration over a List or a Map (none over anything else). */
static inline tally_iter tally_items(tally_value v) {
    uint32_t n = tally_len(v);
    return (tally_iter){n ? v.p + 9 : NULL, n};
}

/* tally_next sets *item to a List's next item; false at the end. */
static inline bool tally_next(tally_iter *it, tally_value *item) {
    if (!it->left) return false;
    it->left--;
    item->p = it->p;
    it->p = tally_skip(it->p);
    return true;
}

/* tally_next_entry sets *key and *value to a Map's next entry; false at the end. */
static inline bool tally_next_entry(tally_iter *it, tally_str *key, tally_value *value) {
    if (!it->left) return false;
    it->left--;
    *key = (tally_str){(const char *)it->p + 4, tally_u32(it->p)};
    value->p = it->p + 4 + key->len;
    it->p = tally_skip(value->p);
    return true;
}

/* tally_get returns the value of key in a Map; absent when it has none. */
static inline tally_value tally_get(tally_value map, const char *key) {
    tally_iter it = tally_items(map);
    tally_str k;
    tally_value v;
    if (tally_kind_of(map) != TALLY_MAP) return (tally_value){NULL};
    while (tally_next_entry(&it, &k, &v))
        if (tally_is(k, key)) return v;
    return (tally_value){NULL};
}

/* tally_fields starts an iteration over a Record's fields, for tally_next_field. */
static inline tally_iter tally_fields(tally_value rec) {
    if (tally_kind_of(rec) != TALLY_RECORD) return (tally_iter){NULL, 0};
    return (tally_iter){rec.p + 5, tally_u32(rec.p + 1)}; /* left counts bytes here */
}

/* tally_next_field sets *tag and *value to a Record's next field; false at the end. */
static inline bool tally_next_field(tally_iter *it, uint8_t *tag, tally_value *value) {
    if (!it->left) return false;
    const uint8_t *next;
    *tag = it->p[0];
    value->p = it->p + 1;
    next = tally_skip(value->p);
    it->left -= (uint32_t)(next - it->p);
    it->p = next;
    return true;
}

/* tally_event_read reads an event record into *e; false when rec is not a record. */
static inline bool tally_event_read(tally_value rec, tally_event *e) {
    tally_iter it = tally_fields(rec);
    uint8_t tag;
    tally_value v;
    memset(e, 0, sizeof *e);
    e->job_id = e->uuid = e->parent_uuid = e->event = e->playbook = e->play = e->play_pattern =
        e->host = e->handler = e->included = (tally_str){"", 0};
    if (tally_kind_of(rec) != TALLY_RECORD) return false;
    while (tally_next_field(&it, &tag, &v)) {
        switch (tag) {
        case 1: e->job_id = tally_string(v); break;
        case 2: e->seq = tally_int(v); break;
        case 3: e->uuid = tally_string(v); break;
        case 4: e->parent_uuid = tally_string(v); break;
        case 5: e->created = tally_int(v); break;
        case 6: e->event = tally_string(v); break;
        case 7: e->playbook = tally_string(v); break;
        case 8: e->play = tally_string(v); break;
        case 9: e->play_pattern = tally_string(v); break;
        case 10: e->host = tally_string(v); break;
        case 11: e->task = v; break;
        case 12: e->is_conditional = tally_bool(v); break;
        case 13: e->ignore_errors = tally_bool(v); break;
        case 14: e->rescued = tally_bool(v); break;
        case 15: e->ignore_unreachable = tally_bool(v); break;
        case 16: e->handler = tally_string(v); break;
        case 17: e->included = tally_string(v); break;
        case 18: e->start = tally_int(v); break;
        case 19: e->end = tally_int(v); break;
        case 20: e->duration = tally_float(v); break;
        case 21: e->res = v; break;
        case 22: e->stats = v; break;
        default: break; /* a field of a later revision */
        }
    }
    return true;
}

/* tally_task_read reads an event's task record; false (and an empty task) when it has none. */
static inline bool tally_task_read(tally_value rec, tally_task *t) {
    tally_iter it = tally_fields(rec);
    uint8_t tag;
    tally_value v;
    memset(t, 0, sizeof *t);
    t->name = t->action = t->path = t->uuid = (tally_str){"", 0};
    if (tally_kind_of(rec) != TALLY_RECORD) return false;
    while (tally_next_field(&it, &tag, &v)) {
        switch (tag) {
        case 1: t->name = tally_string(v); break;
        case 2: t->action = tally_string(v); break;
        case 3: t->path = tally_string(v); break;
        case 4: t->uuid = tally_string(v); break;
        case 5: t->tags = v; break;
        case 6: t->args = v; break;
        default: break;
        }
    }
    return true;
}

/* tally_stats_read reads a playbook_on_stats event's stats record. */
static inline bool tally_stats_read(tally_value rec, tally_stats *s) {
    tally_iter it = tally_fields(rec);
    uint8_t tag;
    tally_value v;
    memset(s, 0, sizeof *s);
    s->status = (tally_str){"", 0};
    if (tally_kind_of(rec) != TALLY_RECORD) return false;
    while (tally_next_field(&it, &tag, &v)) {
        switch (tag) {
        case 1: s->status = tally_string(v); break;
        case 2: s->rc = tally_int(v); break;
        case 3: s->start = tally_int(v); break;
        case 4: s->end = tally_int(v); break;
        case 5: s->hosts = v; break;
        case 6: s->custom_stats = v; break;
        case 7: s->global_custom_stats = v; break;
        default: break;
        }
    }
    return true;
}

/* tally_host_stats_read reads one host's counters, a value of tally_stats.hosts. */
static inline bool tally_host_stats_read(tally_value rec, tally_host_stats *h) {
    tally_iter it = tally_fields(rec);
    uint8_t tag;
    tally_value v;
    memset(h, 0, sizeof *h);
    if (tally_kind_of(rec) != TALLY_RECORD) return false;
    while (tally_next_field(&it, &tag, &v)) {
        int64_t n = tally_int(v);
        switch (tag) {
        case 1: h->ok = n; break;
        case 2: h->changed = n; break;
        case 3: h->failures = n; break;
        case 4: h->unreachable = n; break;
        case 5: h->skipped = n; break;
        case 6: h->rescued = n; break;
        case 7: h->ignored = n; break;
        case 8: h->processed = n; break;
        default: break;
        }
    }
    return true;
}

/* tally_settings_read reads tally_configure's payload. */
static inline bool tally_settings_read(const uint8_t *p, uint32_t n, tally_settings *s) {
    tally_value rec = {p};
    tally_iter it = tally_fields(rec);
    uint8_t tag;
    tally_value v;
    memset(s, 0, sizeof *s);
    s->job_id = s->limit = (tally_str){"", 0};
    if (n < 5 || *p != TALLY_RECORD) return false;
    while (tally_next_field(&it, &tag, &v)) {
        switch (tag) {
        case 1: s->job_id = tally_string(v); break;
        case 2: s->options = v; break;
        case 3: s->verbosity = tally_int(v); break;
        case 4: s->color = tally_bool(v); break;
        case 5: s->limit = tally_string(v); break;
        case 6: s->tags = v; break;
        case 7: s->skip_tags = v; break;
        default: break;
        }
    }
    return true;
}

/* tally_option returns an option's value (a String for str and dir options); absent when it
 * has none. */
static inline tally_value tally_option(const tally_settings *s, const char *name) {
    return tally_get(s->options, name);
}

/* tally_batch starts an iteration over a batch (tally_events, tally_results): a List of event
 * records, for tally_next_event. */
static inline tally_iter tally_batch(const uint8_t *p, uint32_t n) {
    tally_value list = {n >= 9 ? p : NULL};
    return tally_items(list);
}

/* tally_next_event reads a batch's next event into *e; false at the end. */
static inline bool tally_next_event(tally_iter *it, tally_event *e) {
    tally_value rec;
    return tally_next(it, &rec) && tally_event_read(rec, e);
}

/* ---- output and statuses ---- */

__attribute__((import_module("tally"), import_name("terminal")))
void tally_terminal(const char *p, uint32_t n);
__attribute__((import_module("tally"), import_name("log")))
void tally_log(const char *p, uint32_t n);

/* A call's result: TALLY_OK, or an error message's address and length (tally_fail). */
typedef uint64_t tally_status;
#define TALLY_OK ((tally_status)0)

static inline tally_status tally_message(const char *msg, uint32_t len) {
    return (uint64_t)(uintptr_t)msg << 32 | len;
}

/* tally_fail returns an error status with a printf-formatted message; the message stays
 * valid until the next tally_fail, as the ABI asks. */
static inline tally_status tally_fail(const char *format, ...) {
    static char msg[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(msg, sizeof msg, format, args);
    va_end(args);
    if (n <= 0) return tally_message("error", 5);
    return tally_message(msg, n < (int)sizeof msg ? (uint32_t)n : (uint32_t)sizeof msg - 1);
}

/* tally_logf writes a printf-formatted line to tally's log. */
static inline void tally_logf(const char *format, ...) {
    char line[1024];
    va_list args;
    va_start(args, format);
    int n = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (n < 0) return;
    if (n > (int)sizeof line - 2) n = (int)sizeof line - 2;
    line[n++] = '\n';
    tally_log(line, (uint32_t)n);
}

/* ---- sinks (docs/sinks.md) ----
 *
 * A plugin granted a sink (an option of type "sink") appends records to it: a document, built
 * with tally_doc_* in a buffer of the plugin's, under a key in a collection.
 *
 *     uint8_t buf[1024];
 *     tally_doc d;
 *     tally_doc_init(&d, buf, sizeof buf);
 *     tally_doc_str(&d, "status", status.s, status.len);
 *     tally_doc_int(&d, "rc", rc);
 *     int32_t st = tally_sink_put(tally_string(tally_option(&settings, "sink")), "runs", job_id, &d);
 *
 * tally_sink_put returns a TALLY_SINK_* status; a document that did not fit its buffer is
 * TALLY_SINK_BAD_DOC without reaching tally. A plugin that never calls tally_sink_put does not
 * import it. */
enum tally_sink_status {
    TALLY_SINK_OK, TALLY_SINK_NOT_GRANTED, TALLY_SINK_BAD_COLLECTION, TALLY_SINK_BAD_KEY,
    TALLY_SINK_BAD_DOC, TALLY_SINK_TOO_LARGE, TALLY_SINK_LIMIT, TALLY_SINK_HOST_FAILURE
};

__attribute__((import_module("tally"), import_name("sink_put")))
int32_t tally_sink_put_(const char *sink, uint32_t sink_len, const char *coll, uint32_t coll_len,
                        const char *key, uint32_t key_len, const uint8_t *doc, uint32_t doc_len);

/* A Map being written: kind, size, count, then the entries. */
typedef struct { uint8_t *buf; uint32_t cap, len, count; bool overflow; } tally_doc;

static inline void tally_doc_bytes_(tally_doc *d, const void *p, uint32_t n) {
    if (d->overflow || n > d->cap - d->len) { d->overflow = true; return; }
    memcpy(d->buf + d->len, p, n);
    d->len += n;
}

static inline void tally_doc_u32_(tally_doc *d, uint32_t n) { tally_doc_bytes_(d, &n, 4); }

static inline void tally_doc_init(tally_doc *d, uint8_t *buf, uint32_t cap) {
    *d = (tally_doc){buf, cap, 0, 0, cap < 9};
    uint8_t head[9] = {TALLY_MAP};
    tally_doc_bytes_(d, head, 9);
}

static inline void tally_doc_key_(tally_doc *d, const char *key, uint8_t kind) {
    uint32_t n = (uint32_t)strlen(key);
    tally_doc_u32_(d, n);
    tally_doc_bytes_(d, key, n);
    tally_doc_bytes_(d, &kind, 1);
    d->count++;
}

static inline void tally_doc_str(tally_doc *d, const char *key, const char *s, uint32_t n) {
    tally_doc_key_(d, key, TALLY_STRING);
    tally_doc_u32_(d, n);
    tally_doc_bytes_(d, s, n);
}

static inline void tally_doc_int(tally_doc *d, const char *key, int64_t n) {
    tally_doc_key_(d, key, TALLY_INT);
    tally_doc_bytes_(d, &n, 8);
}

static inline void tally_doc_float(tally_doc *d, const char *key, double f) {
    tally_doc_key_(d, key, TALLY_FLOAT);
    tally_doc_bytes_(d, &f, 8);
}

static inline void tally_doc_bool(tally_doc *d, const char *key, bool b) {
    tally_doc_key_(d, key, b ? TALLY_TRUE : TALLY_FALSE);
}

static inline int32_t tally_sink_put(tally_str sink, const char *collection, const char *key, tally_doc *d) {
    if (d->overflow) return TALLY_SINK_BAD_DOC;
    uint32_t size = d->len - 5, count = d->count;
    memcpy(d->buf + 1, &size, 4);
    memcpy(d->buf + 5, &count, 4);
    return tally_sink_put_(sink.s, sink.len, collection, (uint32_t)strlen(collection), key,
                           (uint32_t)strlen(key), d->buf, d->len);
}

/* ---- the exports ---- */

#ifdef TALLY_META

#ifndef TALLY_ON_EVENT
#error "define TALLY_ON_EVENT, the function that handles an event, before including tally.h"
#endif
static tally_status TALLY_ON_EVENT(const tally_event *e);
#ifdef TALLY_ON_CONFIGURE
static tally_status TALLY_ON_CONFIGURE(const tally_settings *s);
#endif
#ifdef TALLY_ON_RESULT
static tally_status TALLY_ON_RESULT(const tally_event *e);
#endif
#ifdef TALLY_ON_CLOSE
static tally_status TALLY_ON_CLOSE(void);
#endif

static uint8_t *tally_payload_;
static uint64_t tally_progress_; /* the seq of the event being handled (metadata "progress") */

__attribute__((export_name("tally_abi_version_1"))) void tally_abi_version_1_(void) {}

__attribute__((export_name("tally_alloc"))) uint8_t *tally_alloc_(uint32_t n) {
    free(tally_payload_);
    return tally_payload_ = malloc(n ? n : 1);
}

__attribute__((export_name("tally_describe"))) uint64_t tally_describe_(void) {
    static char doc[sizeof TALLY_META + 32];
    const char *meta = TALLY_META;
    size_t n = strlen(meta);
    while (n && meta[n - 1] != '}') n--; /* the metadata's closing brace */
    if (!n) return tally_message(meta, (uint32_t)strlen(meta));
    int len = snprintf(doc, sizeof doc, "%.*s,\"progress\":%lu}", (int)(n - 1), meta, (unsigned long)(uintptr_t)&tally_progress_);
    return tally_message(doc, (uint32_t)len);
}

/* tally_each_ calls fn for each event of a batch. */
static tally_status tally_each_(const uint8_t *p, uint32_t n, tally_status (*fn)(const tally_event *)) {
    tally_iter it = tally_batch(p, n);
    tally_event e;
    while (tally_next_event(&it, &e)) {
        tally_progress_ = (uint64_t)e.seq;
        tally_status st = fn(&e);
        if (st) return st;
    }
    return TALLY_OK;
}

__attribute__((export_name("tally_events"))) tally_status tally_events_(uint8_t *p, uint32_t n) {
    return tally_each_(p, n, TALLY_ON_EVENT);
}

#ifdef TALLY_ON_CONFIGURE
__attribute__((export_name("tally_configure"))) tally_status tally_configure_(uint8_t *p, uint32_t n) {
    tally_settings s;
    if (!tally_settings_read(p, n, &s)) return tally_fail("configure: not a settings record");
    return TALLY_ON_CONFIGURE(&s);
}
#endif

#ifdef TALLY_ON_RESULT
__attribute__((export_name("tally_results"))) tally_status tally_results_(uint8_t *p, uint32_t n) {
    return tally_each_(p, n, TALLY_ON_RESULT);
}
#endif

#ifdef TALLY_ON_CLOSE
__attribute__((export_name("tally_close"))) tally_status tally_close_(void) { return TALLY_ON_CLOSE(); }
#endif

#endif /* TALLY_META */
#endif /* TALLY_H */

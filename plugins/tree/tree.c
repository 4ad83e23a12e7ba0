/*
 * tree: a tally callback plugin written in C against the plugin ABI (docs/abi.md), with no
 * SDK. Like Ansible's tree callback, it keeps one file per host in its granted directory
 * (option "dir"), holding the host's last result as JSON (sorted keys, internal keys left out,
 * as Ansible's _dump_results writes it).
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -o tree.wasm tree.c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Value kinds and the tags read here (docs/abi.md, "The encoding"). */
enum { K_NULL, K_FALSE, K_TRUE, K_INT, K_FLOAT, K_STRING, K_LIST, K_MAP, K_RECORD };
enum { TAG_EVENT = 6, TAG_HOST = 10, TAG_RES = 21 };
enum { SETTINGS_OPTIONS = 2 };

__attribute__((import_module("tally"), import_name("log")))
void tally_log(const char *p, uint32_t n);

static const char META[] =
    "{\"name\":\"tree\",\"version\":\"1.0.0\",\"type\":\"aggregate\","
    "\"description\":\"the last result of each host, as JSON, in a file named after the host (Ansible's tree callback), written in C\","
    "\"event_schema\":1,\"events\":[\"runner_on_ok\",\"runner_on_failed\",\"runner_on_unreachable\"],"
    "\"options\":[{\"name\":\"dir\",\"type\":\"dir\",\"env\":[\"TALLY_TREE_DIR\"],\"required\":true,"
    "\"description\":\"the directory of the per-host files\"}],"
    "\"capabilities\":[\"filesystem\"]}";

static uint8_t *payload;
static char dir[4096];
static char error[512];

/* A status: 0, or the address and length of an error message. */
static uint64_t fail(const char *msg, const char *detail) {
    snprintf(error, sizeof error, "%s%s", msg, detail ? detail : "");
    return (uint64_t)(uintptr_t)error << 32 | (uint32_t)strlen(error);
}

static uint32_t u32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* skip returns the offset after the value at p. */
static const uint8_t *skip(const uint8_t *p) {
    switch (*p) {
    case K_INT: case K_FLOAT: return p + 9;
    case K_STRING: return p + 5 + u32(p + 1);
    case K_LIST: case K_MAP: case K_RECORD: return p + 5 + u32(p + 1);
    default: return p + 1;
    }
}

/* Output: a growing buffer. */
static char *out;
static size_t out_len, out_cap;

static void put(const char *s, size_t n) {
    if (out_len + n > out_cap) {
        out_cap = (out_len + n) * 2 + 256;
        out = realloc(out, out_cap);
    }
    memcpy(out + out_len, s, n);
    out_len += n;
}
static void puts_(const char *s) { put(s, strlen(s)); }

/* json_string writes s as a JSON string, as Python's json.dumps with ensure_ascii=False. */
static void json_string(const uint8_t *s, uint32_t n) {
    put("\"", 1);
    for (uint32_t i = 0; i < n; i++) {
        char buf[8];
        uint8_t c = s[i];
        switch (c) {
        case '"': puts_("\\\""); break;
        case '\\': puts_("\\\\"); break;
        case '\n': puts_("\\n"); break;
        case '\r': puts_("\\r"); break;
        case '\t': puts_("\\t"); break;
        case '\b': puts_("\\b"); break;
        case '\f': puts_("\\f"); break;
        default:
            if (c < 0x20) {
                snprintf(buf, sizeof buf, "\\u%04x", c);
                puts_(buf);
            } else {
                put((const char *)&c, 1);
            }
        }
    }
    put("\"", 1);
}

/* json_float writes f as Python's repr: the shortest digits that read back the same. */
static void json_float(double f) {
    char buf[40];
    if (f != f) { puts_("NaN"); return; }
    if (f > 1.7976931348623157e308) { puts_("Infinity"); return; }
    if (f < -1.7976931348623157e308) { puts_("-Infinity"); return; }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, f);
        if (strtod(buf, NULL) == f) break;
    }
    puts_(buf);
    if (!strpbrk(buf, ".eEn")) puts_(".0");
}

struct entry { const uint8_t *key; uint32_t len; const uint8_t *value; };

static int by_key(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    return c ? c : (int)x->len - (int)y->len;
}

static void json_value(const uint8_t *p, int indent, int level);

/* newline starts a line at level, when the output is indented (as json.dumps with indent). */
static void newline(int indent, int level) {
    put("\n", 1);
    for (int i = 0; i < indent * level; i++) put(" ", 1);
}

/* separate writes what goes between two items: ", " on one line, "," and a new line when
 * indented. */
static void separate(int indent, int level) {
    if (indent) {
        put(",", 1);
        newline(indent, level);
    } else {
        puts_(", ");
    }
}

/* json_map writes a Map with sorted keys; top drops Ansible's internal keys and what
 * _dump_results leaves out (exception, invocation, diff). */
static void json_map(const uint8_t *p, int top, int indent, int level) {
    uint32_t count = u32(p + 5);
    struct entry *e = malloc(sizeof *e * (count ? count : 1));
    const uint8_t *q = p + 9;
    uint32_t kept = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = u32(q);
        const uint8_t *key = q + 4, *value = key + len;
        q = skip(value);
        if (len >= 9 && memcmp(key, "_ansible_", 9) == 0) continue;
        if (top && ((len == 9 && !memcmp(key, "exception", 9)) || (len == 10 && !memcmp(key, "invocation", 10)) ||
                    (len == 4 && !memcmp(key, "diff", 4))))
            continue;
        e[kept++] = (struct entry){key, len, value};
    }
    qsort(e, kept, sizeof *e, by_key);
    put("{", 1);
    for (uint32_t i = 0; i < kept; i++) {
        if (i) separate(indent, level + 1);
        else if (indent) newline(indent, level + 1);
        json_string(e[i].key, e[i].len);
        puts_(": ");
        json_value(e[i].value, indent, level + 1);
    }
    if (kept && indent) newline(indent, level);
    put("}", 1);
    free(e);
}

static void json_value(const uint8_t *p, int indent, int level) {
    char buf[32];
    int64_t i;
    double f;
    switch (*p) {
    case K_NULL: puts_("null"); break;
    case K_FALSE: puts_("false"); break;
    case K_TRUE: puts_("true"); break;
    case K_INT:
        memcpy(&i, p + 1, 8);
        snprintf(buf, sizeof buf, "%lld", (long long)i);
        puts_(buf);
        break;
    case K_FLOAT:
        memcpy(&f, p + 1, 8);
        json_float(f);
        break;
    case K_STRING: json_string(p + 5, u32(p + 1)); break;
    case K_LIST: {
        uint32_t count = u32(p + 5);
        const uint8_t *q = p + 9;
        put("[", 1);
        for (uint32_t k = 0; k < count; k++) {
            if (k) separate(indent, level + 1);
            else if (indent) newline(indent, level + 1);
            json_value(q, indent, level + 1);
            q = skip(q);
        }
        if (count && indent) newline(indent, level);
        put("]", 1);
        break;
    }
    case K_MAP: json_map(p, 0, indent, level); break;
    default: puts_("null"); /* records do not occur in results */
    }
}

__attribute__((export_name("tally_abi_version_1"))) void abi_version_1(void) {}

__attribute__((export_name("tally_alloc"))) uint8_t *tally_alloc(uint32_t n) {
    free(payload);
    return payload = malloc(n ? n : 1);
}

__attribute__((export_name("tally_describe"))) uint64_t tally_describe(void) {
    return (uint64_t)(uintptr_t)META << 32 | (uint32_t)(sizeof META - 1);
}

/* tally_configure reads the dir option from the settings record. */
__attribute__((export_name("tally_configure"))) uint64_t tally_configure(uint8_t *p, uint32_t n) {
    if (n < 5 || p[0] != K_RECORD) return fail("configure: not a settings record", NULL);
    const uint8_t *q = p + 5, *end = p + 5 + u32(p + 1);
    while (q < end) {
        uint8_t tag = *q++;
        if (tag == SETTINGS_OPTIONS && *q == K_MAP) {
            uint32_t count = u32(q + 5);
            const uint8_t *o = q + 9;
            for (uint32_t i = 0; i < count; i++) {
                uint32_t len = u32(o);
                const uint8_t *key = o + 4, *value = key + len;
                if (len == 3 && !memcmp(key, "dir", 3) && *value == K_STRING) {
                    uint32_t vlen = u32(value + 1);
                    if (vlen >= sizeof dir) return fail("configure: dir is too long", NULL);
                    memcpy(dir, value + 5, vlen);
                    dir[vlen] = 0;
                }
                o = skip(value);
            }
        }
        q = skip(q);
    }
    return dir[0] ? 0 : fail("configure: the dir option is not set", NULL);
}

/* verbose_always reports whether the result Map at p asks to be shown in full
 * (_ansible_verbose_always, set by debug and assert), which _dump_results indents by 4. */
static int verbose_always(const uint8_t *p) {
    uint32_t count = u32(p + 5);
    const uint8_t *q = p + 9;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t len = u32(q);
        const uint8_t *key = q + 4, *value = key + len;
        if (len == 23 && !memcmp(key, "_ansible_verbose_always", 23)) return *value == K_TRUE;
        q = skip(value);
    }
    return 0;
}

/* write_host writes the result at res as the host's file. */
static uint64_t write_host(const uint8_t *host, uint32_t hlen, const uint8_t *res) {
    char path[4096 + 256];
    if (hlen == 0 || hlen > 255 || memchr(host, '/', hlen) || (hlen <= 2 && host[0] == '.' && (hlen == 1 || host[1] == '.')))
        return fail("a host name that cannot be a file name", NULL);
    snprintf(path, sizeof path, "%s/%.*s", dir, (int)hlen, (const char *)host);
    out_len = 0;
    if (res) json_map(res, 1, verbose_always(res) ? 4 : 0, 0); else puts_("{}");
    FILE *f = fopen(path, "wb");
    if (!f) return fail("cannot open ", path);
    size_t wrote = fwrite(out, 1, out_len, f);
    if (fclose(f) != 0 || wrote != out_len) return fail("cannot write ", path);
    return 0;
}

/* tally_events handles a batch: a List of event Records, only the subscribed ones. */
__attribute__((export_name("tally_events"))) uint64_t tally_events(uint8_t *p, uint32_t n) {
    if (n < 9 || p[0] != K_LIST) return fail("events: not a list", NULL);
    uint32_t count = u32(p + 5);
    const uint8_t *ev = p + 9;
    for (uint32_t i = 0; i < count; i++, ev = skip(ev)) {
        if (*ev != K_RECORD) return fail("events: not a record", NULL);
        const uint8_t *q = ev + 5, *end = ev + 5 + u32(ev + 1);
        const uint8_t *host = NULL, *res = NULL;
        uint32_t hlen = 0;
        while (q < end) {
            uint8_t tag = *q++;
            if (tag == TAG_HOST && *q == K_STRING) { host = q + 5; hlen = u32(q + 1); }
            if (tag == TAG_RES && *q == K_MAP) res = q;
            q = skip(q);
        }
        if (host) {
            uint64_t status = write_host(host, hlen, res);
            if (status) return status;
        }
    }
    return 0;
}

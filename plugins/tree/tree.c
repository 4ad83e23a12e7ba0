/*
 * tree: a tally callback plugin written in C, with tally's C header (pluginsdk/c/tally.h).
 * Like Ansible's tree callback, it keeps one file per host in its granted directory (option
 * "dir"), holding the host's last result as JSON (sorted keys, internal keys left out, as
 * Ansible's _dump_results writes it).
 *
 * Build: clang --target=wasm32-wasi -mexec-model=reactor -O2 -I../../pluginsdk/c -o tree.wasm tree.c
 */
#define TALLY_META \
    "{\"name\":\"tree\",\"version\":\"1.0.0\",\"type\":\"aggregate\"," \
    "\"description\":\"the last result of each host, as JSON, in a file named after the host (Ansible's tree callback), written in C\"," \
    "\"event_schema\":1,\"events\":[\"runner_on_ok\",\"runner_on_failed\",\"runner_on_unreachable\"]," \
    "\"options\":[{\"name\":\"dir\",\"type\":\"dir\",\"env\":[\"TALLY_TREE_DIR\"],\"required\":true," \
    "\"description\":\"the directory of the per-host files\"}]," \
    "\"capabilities\":[\"filesystem\"]}"
#define TALLY_ON_CONFIGURE configure
#define TALLY_ON_EVENT event
#include "tally.h"

static char dir[4096];

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
static void json_string(tally_str s) {
    put("\"", 1);
    for (uint32_t i = 0; i < s.len; i++) {
        char buf[8];
        uint8_t c = (uint8_t)s.s[i];
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

struct entry { tally_str key; tally_value value; };

static int by_key(const void *a, const void *b) {
    const struct entry *x = a, *y = b;
    uint32_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
    int c = memcmp(x->key.s, y->key.s, n);
    return c ? c : (int)x->key.len - (int)y->key.len;
}

static void json_value(tally_value v, int indent, int level);

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
static void json_map(tally_value map, int top, int indent, int level) {
    uint32_t kept = 0;
    struct entry *e = malloc(sizeof *e * (tally_len(map) + 1));
    tally_iter it = tally_items(map);
    tally_str key;
    tally_value value;
    while (tally_next_entry(&it, &key, &value)) {
        if (key.len >= 9 && memcmp(key.s, "_ansible_", 9) == 0) continue;
        if (top && (tally_is(key, "exception") || tally_is(key, "invocation") || tally_is(key, "diff"))) continue;
        e[kept++] = (struct entry){key, value};
    }
    qsort(e, kept, sizeof *e, by_key);
    put("{", 1);
    for (uint32_t i = 0; i < kept; i++) {
        if (i) separate(indent, level + 1);
        else if (indent) newline(indent, level + 1);
        json_string(e[i].key);
        puts_(": ");
        json_value(e[i].value, indent, level + 1);
    }
    if (kept && indent) newline(indent, level);
    put("}", 1);
    free(e);
}

static void json_value(tally_value v, int indent, int level) {
    char buf[32];
    switch (tally_kind_of(v)) {
    case TALLY_FALSE: puts_("false"); break;
    case TALLY_TRUE: puts_("true"); break;
    case TALLY_INT:
        snprintf(buf, sizeof buf, "%lld", (long long)tally_int(v));
        puts_(buf);
        break;
    case TALLY_FLOAT: json_float(tally_float(v)); break;
    case TALLY_STRING: json_string(tally_string(v)); break;
    case TALLY_LIST: {
        tally_iter it = tally_items(v);
        tally_value item;
        put("[", 1);
        for (uint32_t k = 0; tally_next(&it, &item); k++) {
            if (k) separate(indent, level + 1);
            else if (indent) newline(indent, level + 1);
            json_value(item, indent, level + 1);
        }
        if (tally_len(v) && indent) newline(indent, level);
        put("]", 1);
        break;
    }
    case TALLY_MAP: json_map(v, 0, indent, level); break;
    default: puts_("null"); /* records do not occur in results */
    }
}

/* configure reads the dir option. */
static tally_status configure(const tally_settings *s) {
    tally_str d = tally_string(tally_option(s, "dir"));
    if (d.len == 0) return tally_fail("configure: the dir option is not set");
    if (d.len >= sizeof dir) return tally_fail("configure: dir is too long");
    memcpy(dir, d.s, d.len);
    dir[d.len] = 0;
    return TALLY_OK;
}

/* event writes the event's result as its host's file. */
static tally_status event(const tally_event *e) {
    char path[4096 + 256];
    tally_str host = e->host;
    if (host.len == 0 || host.len > 255 || memchr(host.s, '/', host.len) || tally_is(host, ".") || tally_is(host, ".."))
        return tally_fail("a host name that cannot be a file name: %.*s", TALLY_STR_ARGS(host));
    snprintf(path, sizeof path, "%s/%.*s", dir, TALLY_STR_ARGS(host));
    out_len = 0;
    /* _ansible_verbose_always (debug, assert) asks for the result in full: indented by 4. */
    if (tally_kind_of(e->res) == TALLY_MAP) json_map(e->res, 1, tally_bool(tally_get(e->res, "_ansible_verbose_always")) ? 4 : 0, 0);
    else puts_("{}");
    FILE *f = fopen(path, "wb");
    if (!f) return tally_fail("cannot open %s", path);
    size_t wrote = fwrite(out, 1, out_len, f);
    if (fclose(f) != 0 || wrote != out_len) return tally_fail("cannot write %s", path);
    return TALLY_OK;
}

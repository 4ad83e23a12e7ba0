/*
 * touch: testplugins.Recorder's sum in C, through pluginsdk/c/tally.h. It reads every field of
 * every event, and every value of its result, stats and task arguments, and logs the count of
 * events and the sum when the run ends: the sum that testplugins.Touch computes natively.
 */
#define TALLY_META \
    "{\"name\":\"touch\",\"version\":\"1.0.0\",\"type\":\"aggregate\",\"event_schema\":1,\"events\":[" \
    "\"playbook_on_start\",\"playbook_on_play_start\",\"playbook_on_no_hosts_matched\",\"playbook_on_task_start\"," \
    "\"playbook_on_handler_task_start\",\"playbook_on_include\",\"playbook_on_notify\",\"runner_on_start\"," \
    "\"runner_retry\",\"runner_item_on_ok\",\"runner_item_on_failed\",\"runner_item_on_skipped\",\"runner_on_ok\"," \
    "\"runner_on_failed\",\"runner_on_skipped\",\"runner_on_unreachable\",\"playbook_on_no_hosts_remaining\"," \
    "\"playbook_on_stats\"]}"
#define TALLY_ON_EVENT touch
#define TALLY_ON_CLOSE done
#include "tally.h"

static uint64_t events, sum;

static uint64_t str(tally_str s) { return s.len ? s.len + (uint8_t)s.s[s.len - 1] : 1; }

/* to_u64 converts as Go's uint64(float64) does on amd64. */
static uint64_t to_u64(double f) { return f < 9223372036854775808.0 ? (uint64_t)(int64_t)f : (uint64_t)f; }

static uint64_t value(tally_value v) {
    uint64_t n;
    tally_iter it;
    tally_str key;
    tally_value item;
    switch (tally_kind_of(v)) {
    case TALLY_NULL: case TALLY_TRUE: return 1;
    case TALLY_INT: return (uint64_t)tally_int(v);
    case TALLY_FLOAT: return to_u64(tally_float(v));
    case TALLY_STRING: return str(tally_string(v));
    case TALLY_LIST:
        n = tally_len(v);
        for (it = tally_items(v); tally_next(&it, &item);) n += value(item);
        return n;
    case TALLY_MAP:
        n = tally_len(v);
        for (it = tally_items(v); tally_next_entry(&it, &key, &item);) n += str(key) + value(item);
        return n;
    default: return 0; /* False, or absent */
    }
}

static tally_status touch(const tally_event *e) {
    tally_task t;
    tally_stats st;
    uint64_t n = str(e->job_id) + (uint64_t)e->seq + str(e->uuid) + str(e->parent_uuid) + (uint64_t)e->created + str(e->event);
    n += str(e->playbook) + str(e->play) + str(e->play_pattern) + str(e->host) + str(e->handler) + str(e->included);
    n += e->is_conditional + e->ignore_errors + e->rescued + e->ignore_unreachable;
    n += (uint64_t)e->start + (uint64_t)e->end + to_u64(e->duration * 1e9);
    if (tally_task_read(e->task, &t)) {
        tally_iter it = tally_items(t.tags);
        tally_value tag;
        n += str(t.name) + str(t.action) + str(t.path) + str(t.uuid) + value(t.args);
        while (tally_next(&it, &tag)) n += str(tally_string(tag));
    }
    n += value(e->res);
    if (tally_stats_read(e->stats, &st)) {
        tally_iter it;
        tally_str host;
        tally_value v;
        tally_host_stats h;
        n += str(st.status) + (uint64_t)st.rc + (uint64_t)st.start + (uint64_t)st.end;
        for (it = tally_items(st.hosts); tally_next_entry(&it, &host, &v);) {
            tally_host_stats_read(v, &h);
            n += str(host) + (uint64_t)(h.ok + h.changed + h.failures + h.unreachable + h.skipped + h.rescued + h.ignored + h.processed);
        }
        for (it = tally_items(st.custom_stats); tally_next_entry(&it, &host, &v);) n += str(host) + value(v);
        n += value(st.global_custom_stats);
    }
    events++;
    sum += n;
    return TALLY_OK;
}

static tally_status done(void) {
    tally_logf("%llu events, sum %llu", (unsigned long long)events, (unsigned long long)sum);
    return TALLY_OK;
}

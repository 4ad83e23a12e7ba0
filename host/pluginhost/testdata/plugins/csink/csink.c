/*
 * csink: appends one record through tally.h's sink helpers at the end of the run, to the sink
 * its "sink" option grants: collection c_runs, key "run", the run's status and rc, a float and a
 * bool. It logs the status tally_sink_put returned.
 */
#define TALLY_META \
    "{\"name\":\"csink\",\"version\":\"1.0.0\",\"type\":\"aggregate\",\"event_schema\":1," \
    "\"events\":[\"playbook_on_stats\"],\"options\":[{\"name\":\"sink\",\"type\":\"sink\"}]}"
#define TALLY_ON_EVENT on_stats
#define TALLY_ON_CONFIGURE configure
#include "tally.h"

static char sink[64];
static uint32_t sink_len;

static tally_status configure(const tally_settings *s) {
    tally_str name = tally_string(tally_option(s, "sink"));
    if (name.len > sizeof sink) return tally_fail("sink name too long");
    memcpy(sink, name.s, name.len);
    sink_len = name.len;
    return TALLY_OK;
}

static tally_status on_stats(const tally_event *e) {
    tally_stats st;
    tally_stats_read(e->stats, &st);
    uint8_t buf[256];
    tally_doc d;
    tally_doc_init(&d, buf, sizeof buf);
    tally_doc_str(&d, "status", st.status.s, st.status.len);
    tally_doc_int(&d, "rc", st.rc);
    tally_doc_float(&d, "half", 0.5);
    tally_doc_bool(&d, "c", true);
    tally_logf("put: %d", (int)tally_sink_put((tally_str){sink, sink_len}, "c_runs", "run", &d));
    tally_logf("bad: %d", (int)tally_sink_put((tally_str){sink, sink_len}, "C-runs", "run", &d));
    return TALLY_OK;
}

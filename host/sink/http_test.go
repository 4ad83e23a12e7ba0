package sink

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/config"
)

// receiver is an HTTP endpoint that refuses the first fail requests, then keeps the records
// it gets by (job_id, collection, key), as a receiver should.
type receiver struct {
	mu      sync.Mutex
	fail    int
	tries   int
	auth    []string
	records map[string]json.RawMessage
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.tries++
	rc.auth = append(rc.auth, r.Header.Get("Authorization"))
	if rc.fail > 0 {
		rc.fail--
		http.Error(w, "try later", http.StatusServiceUnavailable)
		return
	}
	var body struct {
		JobID   string   `json:"job_id"`
		Records []Record `json:"records"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, rec := range body.Records {
		rc.records[body.JobID+"/"+rec.Collection+"/"+rec.Key] = rec.Doc
	}
}

func httpConfig(url, retryFor string) (config.Sink, func(string) string) {
	return config.Sink{Type: "http", Params: map[string]any{"url": url, "retry_for": retryFor,
			"headers_env": map[string]any{"Authorization": "TALLY_HOOK_AUTH"}}, Source: "test"},
		func(k string) string {
			if k == "TALLY_HOOK_AUTH" {
				return "Bearer s3cret"
			}
			return ""
		}
}

func TestHTTPSinkRetriesWithBackoffAndSendsEveryRecordInBatches(t *testing.T) {
	rc := &receiver{fail: 2, records: map[string]json.RawMessage{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c, getenv := httpConfig(srv.URL, "1m")
	s, err := Open("hook", c, getenv)
	if err != nil {
		t.Fatal(err)
	}
	s.(*httpSink).backoff = 10 * time.Millisecond // the test need not wait
	if err := s.Write(context.Background(), "job-1", seq(records(2500))); err != nil {
		t.Fatal(err)
	}
	if len(rc.records) != 2500 || rc.tries != 2+3 {
		t.Errorf("%d records in %d requests, want 2500 in 3 batches after 2 refusals", len(rc.records), rc.tries)
	}
	if rc.auth[0] != "Bearer s3cret" {
		t.Errorf("Authorization %q, want the value of TALLY_HOOK_AUTH", rc.auth[0])
	}
}

func TestHTTPSinkThatKeepsRefusingIsSpooledWithOneWarning(t *testing.T) {
	rc := &receiver{fail: 1 << 30, records: map[string]json.RawMessage{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	c, getenv := httpConfig(srv.URL, "100ms")
	spool := Spool{Dir: filepath.Join(t.TempDir(), "spool")}
	r := NewRun("job-1", map[string]config.Sink{"hook": c}, spool, "", getenv)
	r.Grant("hook")
	r.Append("hook", records(1)[0])
	var warnings []string
	r.Commit(context.Background(), func(w string) { warnings = append(warnings, w) })
	if len(warnings) != 1 || !strings.Contains(warnings[0], "503 Service Unavailable") || strings.Contains(warnings[0], "s3cret") {
		t.Errorf("warnings %q", warnings)
	}
	if jobs, _ := spool.Jobs("hook"); len(jobs) != 1 {
		t.Errorf("spool holds %v, want job-1", jobs)
	}
	rc.fail = 0
	if _, err := Flush(context.Background(), "hook", c, spool, getenv); err != nil || len(rc.records) != 1 {
		t.Errorf("flush: %v, %d records", err, len(rc.records))
	}
}

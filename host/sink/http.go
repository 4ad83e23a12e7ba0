package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// httpSink POSTs a run's records as JSON batches, {"job_id": ..., "batch": N, "records":
// [{"collection", "key", "doc", "created"}, ...]}, retrying each batch with backoff for a
// bounded time. A receiver should upsert on (job_id, collection, key): a run that failed half
// way is spooled and sent again whole.
type httpSink struct {
	url      string
	headers  map[string]string
	client   *http.Client
	retryFor time.Duration
	// backoff is the first wait between tries; it doubles, up to maxBackoff.
	backoff time.Duration
}

const (
	httpBatchRecords = 1000
	httpBatchBytes   = 4 << 20
	maxBackoff       = 10 * time.Second
)

// openHTTP reads url, headers_env (a mapping of header names to the environment variables that
// hold their values: credentials stay with the operator), timeout (per request, default 10s)
// and retry_for (how long a batch is retried before the run is spooled, default 60s).
func openHTTP(p *params, getenv func(string) string) (Sink, error) {
	s := &httpSink{headers: map[string]string{}, retryFor: time.Minute, backoff: 500 * time.Millisecond}
	var err error
	if s.url, err = p.str("url", true); err != nil {
		return nil, err
	}
	timeout := 10 * time.Second
	for key, d := range map[string]*time.Duration{"timeout": &timeout, "retry_for": &s.retryFor} {
		v, err := p.str(key, false)
		if err != nil {
			return nil, err
		}
		if v != "" {
			if *d, err = time.ParseDuration(v); err != nil || *d <= 0 {
				return nil, fmt.Errorf("%s: want a duration such as 10s", key)
			}
		}
	}
	s.client = &http.Client{Timeout: timeout}
	p.used = append(p.used, "headers_env")
	if h, ok := p.c.Params["headers_env"]; ok {
		m, ok := h.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("headers_env: want a mapping of header names to environment variables")
		}
		for name, env := range m {
			e, _ := env.(string)
			if v := getenv(e); v != "" {
				s.headers[name] = v
			} else {
				return nil, fmt.Errorf("headers_env: %s: the environment variable %q is not set", name, e)
			}
		}
	}
	return s, nil
}

func (s *httpSink) Close() error { return nil }

func (s *httpSink) Write(ctx context.Context, jobID string, records Records) error {
	var batch []Record
	size, n := 0, 0
	for r, err := range records {
		if err != nil {
			return err
		}
		batch = append(batch, r)
		size += len(r.Doc)
		if len(batch) == httpBatchRecords || size >= httpBatchBytes {
			if err := s.post(ctx, jobID, n, batch); err != nil {
				return err
			}
			batch, size, n = batch[:0], 0, n+1
		}
	}
	if len(batch) > 0 {
		return s.post(ctx, jobID, n, batch)
	}
	return nil
}

// post sends one batch, retrying with backoff until it is taken or retryFor has passed.
func (s *httpSink) post(ctx context.Context, jobID string, n int, batch []Record) error {
	body, err := json.Marshal(map[string]any{"job_id": jobID, "batch": n, "records": batch})
	if err != nil {
		return fmt.Errorf("encode batch %d: %w", n, err)
	}
	deadline := time.Now().Add(s.retryFor)
	wait := s.backoff
	for try := 1; ; try++ {
		err = s.postOnce(ctx, jobID, n, body)
		if err == nil || time.Now().Add(wait).After(deadline) {
			if err != nil {
				return fmt.Errorf("POST %s, batch %d, %d tries: %w", s.url, n, try, err)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
}

func (s *httpSink) postOnce(ctx context.Context, jobID string, n int, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", jobID+"/"+strconv.Itoa(n))
	for k, v := range s.headers {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the server answered %s", resp.Status)
	}
	return nil
}

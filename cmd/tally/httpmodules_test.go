package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHTTPModulesMatchAnsible runs testdata/http_modules.yml, whose assertions pin get_url's
// and uri's results key by key, under ansible-playbook and under tally, against an HTTP server
// on loopback, on a local host and on an SSH host: both must pass it alike.
func TestHTTPModulesMatchAnsible(t *testing.T) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	const payload = "payload\n"
	sum := sha256.Sum256([]byte(payload))
	modified := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	mux := http.NewServeMux()
	mux.HandleFunc("/file.txt", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file.txt", modified, strings.NewReader(payload))
	})
	mux.HandleFunc("/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, hex.EncodeToString(sum[:])+"  file.txt\n")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/file.txt", http.StatusFound) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=abc; Path=/")
		json.NewEncoder(w).Encode(map[string]any{"body": string(body), "type": r.Header.Get("Content-Type"), "x": r.Header.Get("X-Test")})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	playbook, err := filepath.Abs("testdata/http_modules.yml")
	if err != nil {
		t.Fatal(err)
	}
	inventory, err := filepath.Abs(filepath.Join(compatDir, "inventory.ini"))
	if err != nil {
		t.Fatal(err)
	}
	for name, setup := range map[string]func(t *testing.T) compatSetup{
		"local": func(*testing.T) compatSetup { return compatSetup{inventory: inventory} },
		"ssh":   func(t *testing.T) compatSetup { return sshCompatSetup(t, "inventory.ini") },
	} {
		t.Run(name, func(t *testing.T) {
			s := setup(t)
			args := []string{"-e", "base=" + srv.URL}
			ref := runPlaybook(t, s, []string{ansible}, args, playbook)
			got := runPlaybook(t, s, []string{tally, "run"}, args, playbook)
			if ref.rc != 0 {
				t.Errorf("ansible-playbook fails the playbook's assertions (rc %d):\n%s", ref.rc, ref.output())
			}
			if got.rc != ref.rc || !maps.Equal(got.recap, ref.recap) {
				t.Errorf("tally run differs from ansible-playbook: rc %d, ansible-playbook %d\n%s\n%s",
					got.rc, ref.rc, diffRecaps("ansible", ref.recap, "tally", got.recap), got.output())
			}
		})
	}
}

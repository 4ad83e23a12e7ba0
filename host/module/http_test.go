package module

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

// fixedTime is the served file's modification time, older than any file a test writes.
var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

const payload = "payload\n"

// httpServer starts a loopback HTTP server for get_url and uri to reach from the host (the
// local connection's host is this machine).
func httpServer(t *testing.T) string {
	t.Helper()
	sum := sha256.Sum256([]byte(payload))
	mux := http.NewServeMux()
	mux.HandleFunc("/file.txt", func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "file.txt", fixedTime, strings.NewReader(payload))
	})
	mux.HandleFunc("/SHA256SUMS", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, hex.EncodeToString(sum[:])+"  file.txt\n"+strings.Repeat("0", 64)+" *other.txt\n")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/file.txt", http.StatusFound) })
	mux.HandleFunc("/named", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Disposition", `attachment; filename="named.bin"`)
		io.WriteString(w, payload)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "session=abc; Path=/")
		json.NewEncoder(w).Encode(map[string]any{"method": r.Method, "body": string(body),
			"type": r.Header.Get("Content-Type"), "x": r.Header.Get("X-Test")})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestGetURL(t *testing.T) {
	base := httpServer(t)
	sum := sha256.Sum256([]byte(payload))
	dir := t.TempDir()
	if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	const sha1Payload = "997e49bbf4ad5ee847d0e77aa30648c70c71323c"
	steps := []struct {
		name  string
		args  map[string]any
		check bool
		want  map[string]any
	}{
		{"check mode asks with HEAD and writes nothing", map[string]any{"url": base + "/file.txt", "dest": dir + "/a"}, true,
			map[string]any{"changed": true, "checksum_src": "da39a3ee5e6b4b0d3255bfef95601890afd80709", "dest": dir + "/a"}},
		{"download", map[string]any{"url": base + "/file.txt", "dest": dir + "/a", "mode": "0640"}, false,
			map[string]any{"changed": true, "checksum_src": sha1Payload, "checksum_dest": nil, "status_code": 200,
				"msg": "OK (8 bytes)", "mode": "0640", "md5sum": "249c850f62ea50feb918b095fc56d763", "size": int64(8)}},
		{"not modified since", map[string]any{"url": base + "/file.txt", "dest": dir + "/a", "mode": "0640"}, false,
			map[string]any{"changed": false, "status_code": 304, "msg": "HTTP Error 304: Not Modified", "mode": "0640"}},
		{"a matching checksum downloads nothing", map[string]any{"url": base + "/nope", "dest": dir + "/a", "checksum": "sha256:" + hex.EncodeToString(sum[:])}, false,
			map[string]any{"changed": false, "msg": "file already exists"}},
		{"force downloads the same content", map[string]any{"url": base + "/file.txt", "dest": dir + "/a", "force": true}, false,
			map[string]any{"changed": false, "checksum_dest": sha1Payload, "status_code": 200}},
		{"checksum from a URL", map[string]any{"url": base + "/file.txt", "dest": dir + "/b", "checksum": "sha256:" + base + "/SHA256SUMS"}, false,
			map[string]any{"changed": true, "checksum_src": sha1Payload}},
		{"a redirect into a directory names the file after the last URL", map[string]any{"url": base + "/moved", "dest": dir + "/sub"}, false,
			map[string]any{"changed": true, "dest": dir + "/sub/file.txt"}},
		{"a directory dest takes the URL's file name", map[string]any{"url": base + "/file.txt?x=1", "dest": dir}, false,
			map[string]any{"changed": true, "dest": dir + "/file.txt"}},
		{"or Content-Disposition's", map[string]any{"url": base + "/named", "dest": dir + "/"}, false,
			map[string]any{"changed": true, "dest": dir + "/named.bin"}},
		{"404", map[string]any{"url": base + "/missing", "dest": dir + "/c"}, false,
			map[string]any{"failed": true, "msg": "Request failed", "status_code": 404, "response": "HTTP Error 404: Not Found"}},
		{"timeout", map[string]any{"url": base + "/hang", "dest": dir + "/c", "timeout": 1}, false,
			map[string]any{"failed": true}},
		{"wrong checksum", map[string]any{"url": base + "/file.txt", "dest": dir + "/c", "checksum": "sha1:0000"}, false,
			map[string]any{"failed": true, "msg": "The checksum for " + dir + "/c did not match 0000; it was " + sha1Payload + "."}},
		{"bad checksum", map[string]any{"url": base + "/file.txt", "dest": dir + "/c", "checksum": "sha1"}, false,
			map[string]any{"failed": true, "msg": "The checksum parameter has to be in format <algorithm>:<checksum>"}},
		{"missing directory", map[string]any{"url": base + "/file.txt", "dest": dir + "/no/c"}, false,
			map[string]any{"failed": true, "msg": "Destination " + dir + "/no does not exist"}},
	}
	for _, s := range steps {
		task := newTask(t)
		task.Check = s.check
		r := run(t, task, "get_url", s.args)
		if t.Run(s.name, func(t *testing.T) { check(t, r, s.want) }) && strings.Contains(s.name, "timeout") {
			if msg, _ := r["msg"].(string); !strings.HasPrefix(msg, "Request failed: curl: (28)") {
				t.Errorf("timeout: msg %q", msg)
			}
		}
	}
	for _, name := range []string{"a", "b", "file.txt", "named.bin", "sub/file.txt"} {
		if got := readFile(t, filepath.Join(dir, name)); got != payload {
			t.Errorf("%s holds %q", name, got)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tally") || e.Name() == "c" {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

func TestURI(t *testing.T) {
	base := httpServer(t)
	dir := t.TempDir()
	tests := []struct {
		name string
		args map[string]any
		want map[string]any
	}{
		{"get", map[string]any{"url": base + "/file.txt"},
			map[string]any{"changed": false, "status": 200, "msg": "OK (8 bytes)", "content_length": "8", "redirected": false,
				"cookies": map[string]any{}, "cookies_string": "", "content": nil, "url": base + "/file.txt"}},
		{"return_content after a redirect", map[string]any{"url": base + "/moved", "return_content": true},
			map[string]any{"status": 200, "content": payload, "redirected": true, "url": base + "/file.txt"}},
		{"no redirect followed", map[string]any{"url": base + "/moved", "follow_redirects": "none", "status_code": 302},
			map[string]any{"status": 302, "location": base + "/file.txt", "failed": nil}},
		{"json body, parsed json", map[string]any{"url": base + "/echo", "method": "POST", "body_format": "json",
			"body": map[string]any{"k": []any{1, "v"}}, "headers": map[string]any{"X-Test": "yes"}},
			map[string]any{"json": map[string]any{"method": "POST", "body": `{"k": [1, "v"]}`, "type": "application/json", "x": "yes"},
				"cookies": map[string]any{"session": "abc"}, "cookies_string": "session=abc"}},
		{"form body", map[string]any{"url": base + "/echo", "method": "PUT", "body_format": "form-urlencoded",
			"body": map[string]any{"a": "1 2", "b": []any{"x", "y"}}},
			map[string]any{"json": map[string]any{"method": "PUT", "body": "a=1+2&b=x&b=y", "type": "application/x-www-form-urlencoded", "x": ""}}},
		{"404", map[string]any{"url": base + "/missing"},
			map[string]any{"failed": true, "status": 404, "msg": "Status code was 404 and not [200]: HTTP Error 404: Not Found"}},
		{"404 expected", map[string]any{"url": base + "/missing", "status_code": "200,404"},
			map[string]any{"failed": nil, "status": 404, "body": "404 page not found\n"}},
		{"timeout", map[string]any{"url": base + "/hang", "timeout": 1},
			map[string]any{"failed": true, "status": -1}},
		{"dest", map[string]any{"url": base + "/file.txt", "dest": dir + "/d", "mode": "0600"},
			map[string]any{"changed": true, "path": dir + "/d", "mode": "0600", "size": int64(8)}},
		{"creates", map[string]any{"url": base + "/file.txt", "creates": dir + "/d"},
			map[string]any{"changed": false, "stdout": "skipped, since '" + dir + "/d' exists", "status": nil}},
		{"bad method", map[string]any{"url": base, "method": "GET X"},
			map[string]any{"failed": true, "msg": "Parameter 'method' needs to be a single word in uppercase, like GET or POST."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, run(t, newTask(t), "uri", tt.args), tt.want)
		})
	}
	if got := readFile(t, dir+"/d"); got != payload {
		t.Errorf("dest holds %q", got)
	}
	task := newTask(t)
	task.Check = true
	check(t, run(t, task, "uri", map[string]any{"url": base + "/echo", "method": "POST"}),
		map[string]any{"skipped": true, "msg": "remote module (uri) does not support check mode"})
}

// pathConn runs every command with PATH set to a directory of its own.
type pathConn struct {
	connection.Connection
	path string
}

func (c *pathConn) Exec(ctx context.Context, cmd connection.Command) (connection.Result, error) {
	cmd.Env = map[string]string{"PATH": c.path}
	return c.Connection.Exec(ctx, cmd)
}

// TestHTTPWithoutClient runs get_url and uri on a host whose PATH has the usual tools but
// neither curl nor wget: both fail saying so.
func TestHTTPWithoutClient(t *testing.T) {
	bin := t.TempDir()
	for _, tool := range []string{"sh", "mktemp", "rm", "cat", "stat", "id", "date", "sha1sum", "md5sum", "wc", "cut", "grep", "tail", "readlink", "dirname"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("no %s on this machine", tool)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	for module, want := range map[string]string{
		"get_url": "get_url needs curl or wget on the host, which has neither",
		"uri":     "uri needs curl on the host, which has none",
	} {
		task := newTask(t)
		task.Conn = &pathConn{Connection: task.Conn, path: bin}
		check(t, run(t, task, module, map[string]any{"url": "http://127.0.0.1:1/x", "dest": dir + "/f"}), map[string]any{"failed": true, "msg": want})
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("left %v behind", entries)
	}
}

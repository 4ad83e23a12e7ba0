package module

import (
	"context"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

// httpRequest is a request that get_url or uri makes from the host, with its curl (or, for
// get_url, wget): tally sends no code to the host, so the host's own client does the transfer.
type httpRequest struct {
	method, url  string
	headers      map[string]string
	body         []byte // sent on the command's stdin; nil for none
	timeout      int    // seconds
	insecure     bool   // validate_certs: false
	follow       bool   // follow redirects
	user, pass   string
	modifiedFile string // a host path whose mtime makes If-Modified-Since; "" for none
	curlOnly     bool   // uri: wget cannot send any method with a body
}

// httpResponse is what the host's client reported.
type httpResponse struct {
	tool    string // curl or wget; "" when the host has neither
	status  int    // 0 when no response came
	url     string // after redirects (curl; wget reports the URL asked for)
	reason  string // the status line's reason phrase
	headers map[string]string
	errText string // the client's message when no response came
	rest    string // what the script printed after the response
}

// script returns shell text that runs the request writing the body to the file "$t" and the
// response head to "$h", then prints the response record parseHTTP reads. The caller creates
// $t and $h and prints what it needs after.
func (r *httpRequest) script() string {
	// Connection: close, as Python's urllib asks (servers answer with that header too).
	curl := []string{"curl", "-sS", "-o", `"$t"`, "-D", `"$h"`, "-w", `'%{http_code} %{url_effective}\n'`,
		"--max-time", strconv.Itoa(r.timeout), "-H", "'Connection: close'"}
	wget := []string{"wget", "-q", "-S", "-O", `"$t"`, "-T", strconv.Itoa(r.timeout), "-t", "1", "--no-http-keep-alive"}
	switch r.method {
	case "GET":
	case "HEAD":
		curl = append(curl, "-I") // -X HEAD would wait for a body
		wget = append(wget, "--spider")
	default:
		curl = append(curl, "-X", connection.Quote(r.method))
	}
	if r.follow {
		curl = append(curl, "-L", "--max-redirs", "50")
	} else {
		wget = append(wget, "--max-redirect=0")
	}
	if r.insecure {
		curl, wget = append(curl, "-k"), append(wget, "--no-check-certificate")
	}
	if r.user != "" {
		curl = append(curl, "-u", connection.Quote(r.user+":"+r.pass))
		wget = append(wget, "--user="+connection.Quote(r.user), "--password="+connection.Quote(r.pass))
	}
	for _, k := range slices.Sorted(maps.Keys(r.headers)) {
		h := connection.Quote(k + ": " + r.headers[k])
		curl, wget = append(curl, "-H", h), append(wget, "--header="+h)
	}
	if r.body != nil {
		curl = append(curl, "--data-binary", "@-")
	}
	var ifModified string
	if r.modifiedFile != "" {
		// If-Modified-Since the file's mtime, when it is a file.
		ifModified = fmt.Sprintf("z=%s; [ -f \"$z\" ] || z=\n", shPath(r.modifiedFile))
		curl = append(curl, `${z:+-z "$z"}`)
		wget = append(wget, `${z:+"--header=If-Modified-Since: $(date -u -r "$z" '+%a, %d %b %Y %H:%M:%S GMT')"}`)
	}
	curl, wget = append(curl, "--", connection.Quote(r.url)), append(wget, "--", connection.Quote(r.url))
	script := ifModified + "if command -v curl >/dev/null 2>&1; then echo curl; " + strings.Join(curl, " ") + "; echo \"rc $?\"\n"
	if !r.curlOnly {
		script += "elif command -v wget >/dev/null 2>&1; then echo wget; echo '0 -'; " + strings.Join(wget, " ") + " 2>\"$h\"; echo \"rc $?\"\n"
	}
	return script + "else echo none; echo '0 -'; echo 'rc 127'; fi\necho ---; cat -- \"$h\"; echo; echo ---\n"
}

var statusLine = regexp.MustCompile(`^\s*HTTP/[\d.]+ (\d{3})(?: (.*))?$`)

// parseHTTP reads the record script printed: the client's name; curl's status and URL; the
// client's exit status; and the response heads (wget's messages, when it got none).
func parseHTTP(out string, r *httpRequest) (*httpResponse, error) {
	lines := strings.SplitN(out, "\n", 5)
	if len(lines) < 5 || lines[3] != "---" || !strings.HasPrefix(lines[2], "rc ") {
		return nil, fmt.Errorf("unexpected output of the HTTP client on the host: %q", out)
	}
	res := &httpResponse{tool: lines[0], url: r.url, headers: map[string]string{}}
	code, url, _ := strings.Cut(lines[1], " ")
	res.status, _ = strconv.Atoi(code)
	if url != "-" && url != "" {
		res.url = url
	}
	head, rest, _ := strings.Cut(lines[4], "\n---\n")
	res.rest = rest
	seen := false
	for _, l := range strings.Split(strings.ReplaceAll(head, "\r", ""), "\n") {
		if m := statusLine.FindStringSubmatch(l); m != nil {
			// A new response (after a redirect): its head replaces the last one's.
			res.headers, res.reason, seen = map[string]string{}, m[2], true
			if res.tool == "wget" {
				res.status, _ = strconv.Atoi(m[1])
			}
			continue
		}
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ":"); ok && seen {
			res.headers[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	if res.status == 0 && res.tool == "wget" {
		res.errText = strings.TrimSpace(head)
	}
	return res, nil
}

// runHTTP runs req on the host with prefix before it and suffix after. prefix sets t and h,
// the files for the body and the head, and prints one line, returned as lead; when lead is
// not "go" the request was not made and the response is nil. The response's rest is what
// suffix printed; a request that got no response has the client's message.
func runHTTP(ctx context.Context, t *Task, req *httpRequest, prefix, suffix string) (resp *httpResponse, lead string, err error) {
	res, err := t.sh(ctx, shHelpers+prefix+req.script()+suffix, req.body)
	if err != nil {
		return nil, "", err
	}
	lead, rest, _ := strings.Cut(string(res.Stdout), "\n")
	if lead != "go" {
		return nil, lead, nil
	}
	if resp, err = parseHTTP(rest, req); err != nil {
		return nil, lead, fmt.Errorf("%s %s: %w", req.method, req.url, err)
	}
	if resp.status == 0 && resp.tool == "curl" {
		resp.errText = strings.TrimSpace(string(res.Stderr))
	}
	return resp, lead, nil
}

// msg is urllib's message for the response: "OK (N bytes)" for a 200, "HTTP Error N: REASON"
// for others.
func (r *httpResponse) msg() string {
	if r.status == 200 {
		n, ok := r.headers["content-length"]
		if !ok {
			n = "unknown"
		}
		return fmt.Sprintf("OK (%s bytes)", n)
	}
	return fmt.Sprintf("HTTP Error %d: %s", r.status, r.reason)
}

// noClient is the failure for a host with neither client.
func noClient(module string, curlOnly bool) Result {
	if curlOnly {
		return fail(module + " needs curl on the host, which has none")
	}
	return fail(module + " needs curl or wget on the host, which has neither")
}

// urlFilename is the last part of a URL's path, as Ansible's url_filename ("index.html" for
// none).
func urlFilename(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		url = url[i+3:]
	}
	url, _, _ = strings.Cut(url, "?")
	url, _, _ = strings.Cut(url, "#")
	if _, p, ok := strings.Cut(url, "/"); ok {
		if name := path.Base("/" + p); name != "/" && name != "." {
			return name
		}
	}
	return "index.html"
}

// headersArg reads a headers argument: a dict of names to values.
func headersArg(v any) (map[string]string, error) {
	out := map[string]string{}
	if v == nil {
		return out, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("argument 'headers' is of type %s and we were unable to convert to dict", pyType(v))
	}
	for k, v := range m {
		out[k] = pytext.Str(v)
	}
	return out, nil
}

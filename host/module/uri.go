package module

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/internal/pytext"
)

var uriSpec = &argSpec{module: "uri", options: withAttrs(map[string]option{
	"url":              {kind: kindStr, required: true},
	"method":           {kind: kindStr, def: "GET"},
	"body":             {kind: kindRaw},
	"body_format":      {kind: kindStr, def: "raw", choices: []string{"form-urlencoded", "json", "raw"}},
	"headers":          {kind: kindRaw},
	"status_code":      {kind: kindList, def: []string{"200"}},
	"return_content":   {kind: kindBool, def: false},
	"dest":             {kind: kindPath},
	"creates":          {kind: kindPath},
	"removes":          {kind: kindPath},
	"timeout":          {kind: kindInt, def: 30},
	"follow_redirects": {kind: kindStr, def: "safe", choices: []string{"all", "no", "none", "safe", "urllib2", "yes"}},
	"validate_certs":   {kind: kindBool, def: true},
	"url_username":     {kind: kindStr, aliases: []string{"user"}},
	"url_password":     {kind: kindStr, aliases: []string{"password"}, noLog: true},
	"force_basic_auth": {kind: kindBool, def: false},
})}

// runURI makes an HTTP request from the host with its curl in one Exec, as Ansible's uri
// does from the host, and returns the response's status, headers and (with return_content,
// or when it is JSON) its body.
var runURI = withSpec(uriSpec, uri)

func init() { register("uri", Spec{Run: runURI}) }

var upperWord = regexp.MustCompile(`^[A-Z]+$`)

func uri(ctx context.Context, t *Task, p params) (Result, error) {
	if t.Check {
		return noCheckMode("uri"), nil
	}
	method, target := strings.ToUpper(p.str("method")), p.str("url")
	if !upperWord.MatchString(method) {
		return fail("Parameter 'method' needs to be a single word in uppercase, like GET or POST."), nil
	}
	headers, err := headersArg(p["headers"])
	if err != nil {
		return nil, err
	}
	var codes []int
	for _, c := range p.list("status_code") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("argument 'status_code' is of type <class 'list'> and we were unable to convert to list: %q is not an int", c)
		}
		codes = append(codes, n)
	}
	hasType := slices.ContainsFunc(slices.Collect(maps.Keys(headers)), func(k string) bool { return strings.EqualFold(k, "content-type") })
	var body []byte
	if b := p["body"]; b != nil {
		switch p.str("body_format") {
		case "json":
			s, isStr := b.(string)
			if !isStr {
				if s, err = pytext.DumpJSON(b, pytext.JSONOptions{EnsureASCII: true}); err != nil {
					return nil, fmt.Errorf("uri body: %w", err)
				}
			}
			body = []byte(s)
			if !hasType {
				headers["Content-Type"] = "application/json"
			}
		case "form-urlencoded":
			s, err := formURLEncoded(b)
			if err != nil {
				return fail("failed to parse body as form_urlencoded: "+err.Error(), "elapsed", 0), nil
			}
			body = []byte(s)
			if !hasType {
				headers["Content-Type"] = "application/x-www-form-urlencoded"
			}
		default:
			body = []byte(pytext.Str(b))
		}
	}
	follow := p.str("follow_redirects")
	req := httpRequest{method: method, url: target, headers: headers, body: body, timeout: p.int("timeout"),
		insecure: !p.bool("validate_certs"), user: p.str("url_username"), pass: p.str("url_password"), curlOnly: true,
		follow: follow == "all" || follow == "yes" || follow == "urllib2" || follow == "safe" && (method == "GET" || method == "HEAD")}
	var pre strings.Builder
	skips := map[string]string{"creates": "skipped, since '%s' exists", "removes": "skipped, since '%s' does not exist"}
	for _, c := range [][2]string{{"creates", "-e"}, {"removes", "! -e"}} {
		if p.has(c[0]) {
			fmt.Fprintf(&pre, "if [ %s %s ]; then echo %s; exit 0; fi\n", c[1], shPath(p.str(c[0])), c[0])
		}
	}
	pre.WriteString("t=$(mktemp) && h=$(mktemp) || exit 1\necho go\n")
	suffix := "cat -- \"$t\"; rm -f -- \"$t\" \"$h\"\n"
	dest := p.str("dest")
	if dest != "" {
		// The body goes to dest (index.html in a directory) when the status is one of codes
		// and not 304 (dest, when a file, makes the request conditional, as in Ansible).
		req.modifiedFile = dest
		var want strings.Builder
		for _, c := range codes {
			if c != 304 {
				fmt.Fprintf(&want, " %d", c)
			}
		}
		suffix = fmt.Sprintf(`f=%s; [ ! -d "$f" ] || f="$f/index.html"
code=$(grep '^HTTP/' "$h" | tail -n 1 | cut -d' ' -f2)
case "%s " in *" $code "*) mv -f -- "$t" "$f" || exit 1;; esac
rm -f -- "$t" "$h"; tally_stat "$f" -L
`, shPath(dest), want.String())
	}
	start := time.Now()
	resp, lead, err := runHTTP(ctx, t, &req, pre.String(), suffix)
	if err != nil {
		return nil, fmt.Errorf("uri %s: %w", target, err)
	}
	if msg, ok := skips[lead]; ok {
		r := Result{"changed": false, "stdout": fmt.Sprintf(msg, p.str(lead))}
		addLines(r)
		return r, nil
	}
	elapsed := int(time.Since(start).Seconds())
	switch {
	case resp.tool == "none":
		return noClient("uri", true), nil
	case resp.status == 0:
		return fail("Status code was -1 and not "+pyList(codes)+": Request failed: "+resp.errText,
			"status", -1, "url", target, "elapsed", elapsed, "redirected", false), nil
	}
	r := Result{}
	for k, v := range resp.headers {
		r[strings.ReplaceAll(k, "-", "_")] = v
	}
	cookies := map[string]any{}
	var cookieList []string
	if c, ok := resp.headers["set-cookie"]; ok {
		if kv, _, _ := strings.Cut(c, ";"); strings.Contains(kv, "=") {
			k, v, _ := strings.Cut(kv, "=")
			cookies[strings.TrimSpace(k)] = v
			cookieList = append(cookieList, strings.TrimSpace(k)+"="+v)
		}
	}
	r["cookies"], r["cookies_string"] = cookies, strings.Join(cookieList, "; ")
	if resp.status != 200 {
		delete(r, "cookies") // urllib's HTTPError carries no cookie jar
		delete(r, "cookies_string")
	}
	if loc, ok := r["location"].(string); ok {
		if base, err := url.Parse(target); err == nil {
			if u, err := base.Parse(loc); err == nil {
				r["location"] = u.String()
			}
		}
	}
	r["url"], r["redirected"], r["status"], r["elapsed"], r["changed"] = resp.url, resp.url != target, resp.status, elapsed, false
	r["msg"] = resp.msg()
	if dest != "" {
		fi, err := newLines(resp.rest).stat()
		if err != nil {
			return nil, err
		}
		r["path"] = fi.path
		addPathInfo(r, fi)
		if slices.Contains(codes, resp.status) && resp.status != 304 {
			r["changed"] = true
		}
		resp.rest = ""
	}
	content := []byte(resp.rest)
	_, sub, _ := strings.Cut(strings.ToLower(strings.TrimSpace(strings.Split(resp.headers["content-type"], ";")[0])), "/")
	if _, suffix, ok := strings.Cut(sub, "+"); ok {
		sub = suffix
	}
	maybeJSON := sub == "json" || sub == "javascript"
	if dest == "" && maybeJSON {
		dec := json.NewDecoder(bytes.NewReader(content))
		dec.UseNumber()
		var js any
		if err := dec.Decode(&js); err == nil {
			r["json"] = pytext.JSONNumbers(js)
		}
	}
	// urllib raises an HTTPError for these, whose body Ansible returns when it reads no content.
	isError := resp.status < 200 || resp.status >= 300
	if isError && dest == "" && !maybeJSON && !p.bool("return_content") && slices.Contains(codes, resp.status) {
		r["body"] = string(content)
	}
	if !slices.Contains(codes, resp.status) {
		r["failed"], r["msg"] = true, fmt.Sprintf("Status code was %d and not %s: %s", resp.status, pyList(codes), r["msg"])
	}
	if p.bool("return_content") {
		r["content"] = string(content)
	}
	return r, nil
}

// pyList writes ints as Python prints a list of them.
func pyList(n []int) string {
	s := make([]string, len(n))
	for i, v := range n {
		s[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// formURLEncoded encodes a body as Ansible's form_urlencoded: a dict or a list of pairs, a
// string as is.
func formURLEncoded(b any) (string, error) {
	v := url.Values{}
	var keys []string
	add := func(k string, val any) {
		if _, seen := v[k]; !seen {
			keys = append(keys, k)
		}
		if l, ok := val.([]any); ok {
			for _, e := range l {
				v.Add(k, pytext.Str(e))
			}
			return
		}
		v.Add(k, pytext.Str(val))
	}
	switch x := b.(type) {
	case string:
		return x, nil
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			add(k, x[k])
		}
	case []any:
		for _, e := range x {
			pair, ok := e.([]any)
			if !ok || len(pair) != 2 {
				return "", fmt.Errorf("cannot encode %s as a form", pytext.Repr(e))
			}
			add(pytext.Str(pair[0]), pair[1])
		}
	default:
		return "", fmt.Errorf("cannot encode %s as a form", pytext.TypeName(b))
	}
	var parts []string
	for _, k := range keys {
		for _, val := range v[k] {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(val))
		}
	}
	return strings.Join(parts, "&"), nil
}

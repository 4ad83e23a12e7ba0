package module

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/connection"
)

var getURLSpec = &argSpec{module: "get_url", options: withAttrs(map[string]option{
	"url":              {kind: kindStr, required: true},
	"dest":             {kind: kindPath, required: true},
	"force":            {kind: kindBool, def: false},
	"backup":           {kind: kindBool, def: false},
	"checksum":         {kind: kindStr, def: ""},
	"timeout":          {kind: kindInt, def: 10},
	"headers":          {kind: kindRaw},
	"validate_certs":   {kind: kindBool, def: true},
	"url_username":     {kind: kindStr, aliases: []string{"username"}},
	"url_password":     {kind: kindStr, aliases: []string{"password"}, noLog: true},
	"force_basic_auth": {kind: kindBool, def: false},
})}

// runGetURL downloads a URL to a file on the host with the host's curl (or wget): one Exec to
// look at dest, one to download to a temporary file next to it (another for a checksum URL),
// and one to put it in place, as Ansible's get_url, whose download also happens on the host.
var runGetURL = withSpec(getURLSpec, getURL)

func init() { register("get_url", Spec{Run: runGetURL}) }

var nonWord = regexp.MustCompile(`\W+`)

func getURL(ctx context.Context, t *Task, p params) (Result, error) {
	url, dest := p.str("url"), p.str("dest")
	if err := checkPath("dest", dest); err != nil {
		return nil, err
	}
	headers, err := headersArg(p["headers"])
	if err != nil {
		return nil, err
	}
	req := httpRequest{method: "GET", url: url, headers: headers, timeout: p.int("timeout"), insecure: !p.bool("validate_certs"),
		follow: true, user: p.str("url_username"), pass: p.str("url_password")}
	r := Result{"changed": false, "checksum_dest": nil, "checksum_src": nil, "dest": dest, "elapsed": 0, "url": url}
	var alg, sum string
	if c := p.str("checksum"); c != "" {
		var ok bool
		if alg, sum, ok = strings.Cut(c, ":"); !ok {
			r["failed"], r["msg"] = true, "The checksum parameter has to be in format <algorithm>:<checksum>"
			return r, nil
		}
		if isURL(sum) {
			if sum, err = checksumFromURL(ctx, t, req, sum, url); err != nil || sum == "" {
				return fail(fmt.Sprintf("Unable to find a checksum for file '%s' in '%s'", urlFilename(url), p.str("checksum")[len(alg)+1:])), err
			}
		}
		sum = strings.ToLower(nonWord.ReplaceAllString(sum, ""))
		if _, err := strconv.ParseUint(sum[:min(len(sum), 15)], 16, 64); err != nil || sum == "" {
			r["failed"], r["msg"] = true, "The checksum format is invalid"
			return r, nil
		}
	}

	script := fmt.Sprintf("d=%s\nif [ -d \"$d\" ]; then echo dir; else echo file; fi\ntally_stat \"$d\" -L\ntally_ids\n", shPath(dest))
	if alg != "" {
		script += fmt.Sprintf("if [ -f \"$d\" ]; then tally_sum %s \"$d\"; else echo; fi\n", connection.Quote(alg))
	}
	out, err := t.probe(ctx, script)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", dest, err)
	}
	l := newLines(out)
	kind, err := l.take(1)
	if err != nil {
		return nil, err
	}
	fi, who, err := l.statIDs()
	if err != nil {
		return nil, err
	}
	dest = fi.path
	isDir, force := kind[0] == "dir", p.bool("force")
	if !isDir && fi.exists {
		destSum, _ := l.take(1)
		mismatch := alg != "" && len(destSum) == 1 && destSum[0] != sum
		if !force && alg != "" && !mismatch {
			res, err := applyAttrs(ctx, t, p, fi, who, r)
			if err != nil || res["failed"] == true {
				return res, err
			}
			res["msg"] = "file already exists"
			if res["changed"] == true {
				res["msg"] = "file already exists but file attributes changed"
			}
			return res, nil
		}
		if !force && !mismatch {
			req.modifiedFile = dest // If-Modified-Since its mtime, as Ansible's last_mod_time
		}
	}
	if t.Check {
		req.method = "HEAD"
	}

	dir := path.Dir(dest)
	if isDir {
		dir = dest
	}
	start := time.Now()
	// The body goes to a temporary file next to dest, so that putting it in place is a rename.
	prefix := fmt.Sprintf("t=$(mktemp %s/.tally-get_url.XXXXXXXX 2>/dev/null) || { echo nodir; exit 0; }; h=\"$t.head\"; echo go\n", shPath(dir))
	suffix := "rm -f -- \"$h\"; printf '%s\\n' \"$t\"; tally_sum sha1 \"$t\"; wc -c < \"$t\"\n"
	if t.Check {
		// HEAD has no body (curl -I writes the head to $t).
		suffix = ": > \"$t\"\n" + suffix + "rm -f -- \"$t\"\n"
	}
	resp, lead, err := runHTTP(ctx, t, &req, prefix, suffix)
	if err != nil {
		return nil, fmt.Errorf("get_url %s: %w", url, err)
	}
	if lead == "nodir" {
		return fail(fmt.Sprintf("Destination %s does not exist", dir), "dest", dest, "url", url, "elapsed", 0), nil
	}
	elapsed := int(time.Since(start).Seconds())
	tmpLines := strings.Split(resp.rest, "\n")
	if len(tmpLines) < 3 {
		return nil, fmt.Errorf("get_url %s: unexpected output from the host: %q", url, resp.rest)
	}
	tmp, srcSum := tmpLines[0], tmpLines[1]
	cleanup := func() { t.sh(context.WithoutCancel(ctx), "rm -f -- "+connection.Quote(tmp), nil) }
	switch {
	case resp.tool == "none":
		cleanup()
		return noClient("get_url", false), nil
	case resp.status == 304:
		cleanup()
		return addPathInfo(Result{"changed": false, "dest": dest, "url": url, "msg": resp.msg(), "status_code": 304, "elapsed": elapsed}, fi), nil
	case resp.status == 0:
		cleanup()
		return fail("Request failed: "+resp.errText, "url", url, "dest", dest, "elapsed", elapsed), nil
	case resp.status != 200:
		cleanup()
		return fail("Request failed", "status_code", resp.status, "response", resp.msg(), "url", url, "dest", dest, "elapsed", elapsed), nil
	}
	r["elapsed"], r["src"], r["checksum_src"] = elapsed, tmp, srcSum
	if isDir {
		name := filenameFromHeaders(resp.headers)
		if name == "" {
			name = urlFilename(resp.url)
		}
		dest = path.Join(dest, name)
		r["dest"] = dest
	}
	// Put the file in place when it differs: an existing dest keeps its inode, mode and owner,
	// as atomic_move keeps them; a new one gets the umask's mode.
	var install strings.Builder
	fmt.Fprintf(&install, "t=%s; f=%s\ntally_stat \"$f\" -L sha1\n", connection.Quote(tmp), shPath(dest))
	if !t.Check {
		fmt.Fprintf(&install, "if [ -e \"$f\" ] && [ \"$(tally_sum sha1 \"$f\")\" = %s ]; then rm -f -- \"$t\"\n", connection.Quote(srcSum))
		if p.bool("backup") {
			install.WriteString("elif [ -e \"$f\" ] && ! cp -p -- \"$f\" \"$f.$$.$(date +%Y-%m-%d@%H:%M:%S)~\"; then exit 1\n")
		}
		install.WriteString("elif [ -e \"$f\" ]; then cat -- \"$t\" > \"$f\" && rm -f -- \"$t\" || exit 1\n" +
			"else chmod \"$(printf '%o' $((0666 & ~$(umask))))\" \"$t\" && mv -f -- \"$t\" \"$f\" || exit 1; fi\n")
		if alg != "" {
			fmt.Fprintf(&install, "tally_sum %s \"$f\"\n", connection.Quote(alg))
		}
		install.WriteString("tally_stat \"$f\" -L\ntally_sum md5 \"$f\"\n")
	}
	out, err = t.probe(ctx, install.String())
	if err != nil {
		cleanup()
		return fail(fmt.Sprintf("failed to copy %s to %s: %v", tmp, dest, err)), nil
	}
	l = newLines(out)
	before, err := l.stat()
	if err != nil {
		return nil, err
	}
	if before.exists {
		r["checksum_dest"] = before.checksum
	}
	changed := !before.exists || before.checksum != srcSum
	if t.Check {
		r["changed"], r["msg"] = changed, resp.msg()
		return r, nil
	}
	if alg != "" {
		got, err := l.take(1)
		if err != nil {
			return nil, err
		}
		if got[0] != sum {
			t.sh(context.WithoutCancel(ctx), "rm -f -- "+shPath(dest), nil)
			r["failed"], r["changed"] = true, changed
			r["msg"] = fmt.Sprintf("The checksum for %s did not match %s; it was %s.", dest, sum, got[0])
			return r, nil
		}
	}
	after, err := l.stat()
	if err != nil {
		return nil, err
	}
	md5, err := l.take(1)
	if err != nil {
		return nil, err
	}
	r["changed"], r["md5sum"], r["msg"], r["status_code"] = changed, md5[0], resp.msg(), resp.status
	return applyAttrs(ctx, t, p, after, who, r)
}

// applyAttrs gives the existing file fi the task's mode, owner and group and returns r with
// changed set when that changed anything, and the path's information.
func applyAttrs(ctx context.Context, t *Task, p params, fi *fileInfo, who ids, r Result) (Result, error) {
	cmds, err := attrsOf(p).commands(fi, who.umask)
	if err != nil {
		return modeFailure(err, fi.path), nil
	}
	if len(cmds) == 0 {
		return addPathInfo(r, fi), nil
	}
	after, err := t.apply(ctx, cmds, fi.path)
	if err != nil {
		return nil, err
	}
	r["changed"] = true
	return addPathInfo(r, after), nil
}

// isURL reports whether s is a URL get_url downloads.
func isURL(s string) bool {
	for _, scheme := range []string{"http://", "https://", "ftp://", "file://"} {
		if strings.HasPrefix(s, scheme) {
			return true
		}
	}
	return false
}

// checksumFromURL downloads a checksum file (sha256sum's output, or one bare sum) and returns
// the sum for the file url names, "" when it has none.
func checksumFromURL(ctx context.Context, t *Task, req httpRequest, sumURL, url string) (string, error) {
	req.method, req.url = "GET", sumURL
	resp, _, err := runHTTP(ctx, t, &req, "t=$(mktemp) && h=$(mktemp) || exit 1\necho go\n", "cat -- \"$t\"; rm -f -- \"$t\" \"$h\"\n")
	if err != nil || resp == nil || resp.status != 200 {
		return "", err
	}
	lines := strings.Split(strings.TrimRight(resp.rest, "\n"), "\n")
	if len(lines) == 1 && len(strings.Fields(lines[0])) == 1 {
		return lines[0], nil
	}
	name := urlFilename(url)
	for _, line := range lines {
		sum, file, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if strings.HasPrefix(file, " ") || strings.HasPrefix(file, "*") {
			file = file[1:]
		}
		if strings.TrimLeft(file, "./") == name {
			return sum, nil
		}
	}
	return "", nil
}

var dispositionName = regexp.MustCompile(`(?i)filename\s*=\s*"?([^";]+)"?`)

// filenameFromHeaders is the file name a Content-Disposition header gives, "" for none.
func filenameFromHeaders(h map[string]string) string {
	if m := dispositionName.FindStringSubmatch(h["content-disposition"]); m != nil {
		return path.Base(strings.TrimSpace(m[1]))
	}
	return ""
}

package module

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/tallyrun/tally/host/connection"
	"github.com/tallyrun/tally/internal/pytext"
)

var knownHostsSpec = &argSpec{module: "known_hosts", options: map[string]option{
	"name":      {kind: kindStr, required: true, aliases: []string{"host"}},
	"key":       {kind: kindStr},
	"path":      {kind: kindPath, def: "~/.ssh/known_hosts"},
	"hash_host": {kind: kindBool, def: false},
	"state":     {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
}}

// runKnownHosts adds or removes a host's key in a known_hosts file as Ansible's known_hosts
// module: the host's ssh-keygen finds the host's entries (hashed ones too), the file is
// rewritten with the key's line replaced, removed or appended. One Exec reads the file, one
// runs ssh-keygen, one Put writes the file when it changes.
var runKnownHosts = withSpec(knownHostsSpec, knownHosts)

func init() { register("known_hosts", Spec{Run: runKnownHosts}) }

var (
	// commaHosts is the module's test for a list of names, which it refuses.
	commaHosts = regexp.MustCompile(`\S+(\s+)?,(\s+)?`)
	// keygenFoundLine is ssh-keygen -F's comment before a match.
	keygenFoundLine = regexp.MustCompile(`found: line (\d+)`)
)

func knownHosts(ctx context.Context, t *Task, p params) (Result, error) {
	host, state := strings.ToLower(p.str("name")), p.str("state")
	key := p.str("key")
	if key == "" && state != "absent" {
		return fail("No key specified when adding a host"), nil
	}
	if key != "" && p.bool("hash_host") {
		var err error
		if key, err = hashHostKey(host, key); err != nil {
			return nil, err
		}
	}
	if key != "" && !strings.HasSuffix(key, "\n") {
		key += "\n"
	}
	if key != "" && commaHosts.MatchString(host) {
		return fail("Comma separated list of names is not supported. Please pass a single name to lookup in the known_hosts file."), nil
	}
	f, err := readText(ctx, t, p.str("path"), false)
	if err != nil {
		return nil, err
	}
	path := f.fi.path
	kg, err := sshKeygenFind(ctx, t, host, key, path, f.existed)
	if err != nil || kg.failed != nil {
		return kg.failed, err
	}
	if key != "" && kg.sane == "" {
		return fail("Host parameter does not match hashed host field in supplied key"), nil
	}
	found, replace, foundLine, failed := searchHostKey(kg, key, f.existed)
	if failed != nil {
		return failed, nil
	}
	diff, after := knownHostsDiff(path, f, foundLine, replace, state, key)
	r := Result{"name": p.str("name"), "key": p["key"], "path": path, "hash_host": p.bool("hash_host"),
		"state": state, "diff": diff, "changed": false}
	if state == "absent" && foundLine == 0 && key != "" {
		return r, nil // a key the file does not hold: nothing to remove
	}
	if t.Check {
		return Result{"changed": replace || (state == "present") != found, "diff": diff}, nil
	}
	if found && key == "" && state == "absent" {
		// As Ansible's: ssh-keygen -R removes every entry of the host (and keeps path.old).
		cmd := fmt.Sprintf("%s -R %s -f %s", kg.path, connection.Quote(host), shPath(path))
		if _, err := t.probe(ctx, cmd); err != nil {
			return fail(err.Error()), nil
		}
		r["changed"] = true
		f, err = readText(ctx, t, path, false)
		if err != nil {
			return nil, err
		}
		after = string(f.before)
	}
	if replace || found != (state == "present") {
		f.assumeCreated()
		if _, err := f.save(ctx, t, params{}, []byte(after), true); err != nil {
			return fail(fmt.Sprintf("Failed to write to file %s: %v", path, err)), nil
		}
		r["changed"] = true
	}
	return r, nil
}

// keygenFind is what the host's ssh-keygen said: its path, its lookup of the host in a file
// holding only the key (sane, "" when the key is not the host's), and its lookup of the host
// in the known_hosts file (rc, out, errOut).
type keygenFind struct {
	path            string
	sane, out, errs string
	rc              int
	failed          Result
}

// sshKeygenFind runs `ssh-keygen -F host` on the key alone and on the file, in one Exec.
func sshKeygenFind(ctx context.Context, t *Task, host, key, path string, exists bool) (keygenFind, error) {
	var kg keygenFind
	h := connection.Quote(host)
	script := `kg=$(command -v ssh-keygen) || { echo missing; printf '%s\n' "$PATH"; exit 0; }
printf 'found\n%s\n' "$kg"
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
: > "$d/sane"; : > "$d/out"; : > "$d/err"; rc=0
`
	if key != "" {
		script += fmt.Sprintf("printf '%%s' %s > \"$d/key\" || exit 1\n\"$kg\" -F %s -f \"$d/key\" > \"$d/sane\" 2>/dev/null\n", connection.Quote(key), h)
	}
	if exists {
		script += fmt.Sprintf("\"$kg\" -F %s -f %s > \"$d/out\" 2> \"$d/err\"; rc=$?\n", h, shPath(path))
	}
	script += shCat + "echo $rc\ntally_cat \"$d/sane\" \"$d/out\" \"$d/err\"\n"
	out, err := t.probe(ctx, script)
	if err != nil {
		return kg, fmt.Errorf("ssh-keygen on %s: %w", path, err)
	}
	status, rest, _ := strings.Cut(out, "\n")
	if status == "missing" {
		kg.failed = fail(fmt.Sprintf("Failed to find required executable \"ssh-keygen\" in paths: %s", strings.TrimSpace(rest)))
		return kg, nil
	}
	kg.path, rest, _ = strings.Cut(rest, "\n")
	rc, rest, _ := strings.Cut(rest, "\n")
	if kg.rc, err = strconv.Atoi(rc); err != nil {
		return kg, fmt.Errorf("ssh-keygen on %s: unexpected output %q", path, out)
	}
	frags, err := parseCat(rest)
	if err != nil || len(frags) != 3 {
		return kg, fmt.Errorf("ssh-keygen on %s: unexpected output %q", path, out)
	}
	kg.path = connection.Quote(kg.path)
	kg.sane, kg.out, kg.errs = string(frags[0].data), string(frags[1].data), string(frags[2].data)
	return kg, nil
}

// searchHostKey is the module's search_for_host_key: whether the file has the host, whether
// the key must replace or be added to its entries, and the line (from 1; 0 for none) of the
// entry with the key's type.
func searchHostKey(kg keygenFind, key string, exists bool) (found, replace bool, line int, failed Result) {
	if !exists || kg.out == "" && kg.errs == "" && (kg.rc == 0 || kg.rc == 1) {
		return false, false, 0, nil
	}
	if kg.rc != 0 {
		return false, false, 0, fail(fmt.Sprintf("ssh-keygen failed (rc=%d, stdout='%s',stderr='%s')", kg.rc, kg.out, kg.errs))
	}
	if key == "" {
		return true, false, 0, nil
	}
	want, ok := knownHostsFields(key)
	if !ok {
		return false, false, 0, moduleException("IndexError: list index out of range")
	}
	for _, l := range strings.Split(kg.out, "\n") {
		switch {
		case l == "":
		case l[0] == '#':
			if m := keygenFoundLine.FindStringSubmatch(l); m != nil {
				line, _ = strconv.Atoi(m[1])
			}
		default:
			got, ok := knownHostsFields(l)
			if !ok {
				continue
			}
			if strings.HasPrefix(want.host, "|1|") && strings.HasPrefix(got.host, "|1|") {
				want.host = got.host // a hashed entry keeps its hash
			}
			if want == got {
				return true, false, line, nil
			}
			if want.typ == got.typ {
				return true, true, line, nil
			}
		}
	}
	return true, true, 0, nil
}

// knownHostsKey is a known_hosts line's fields, as the module's normalize_known_hosts_key.
type knownHostsKey struct{ options, host, typ, key string }

func knownHostsFields(line string) (knownHostsKey, bool) {
	k := strings.Fields(line)
	if len(k) > 0 && strings.HasPrefix(k[0], "@") {
		if len(k) < 4 {
			return knownHostsKey{}, false
		}
		return knownHostsKey{k[0], k[1], k[2], k[3]}, true
	}
	if len(k) < 3 {
		return knownHostsKey{}, false
	}
	return knownHostsKey{"", k[0], k[1], k[2]}, true
}

// hashHostKey replaces the host field of key with its hashed form, |1|salt|HMAC-SHA1(host),
// under a fresh salt, as the module's hash_host_key.
func hashHostKey(host, key string) (string, error) {
	salt := make([]byte, 20)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	mac := hmac.New(sha1.New, salt)
	mac.Write([]byte(host))
	parts := strings.Fields(key)
	i := 0
	if len(parts) > 0 && strings.HasPrefix(parts[0], "@") {
		i = 1
	}
	if i >= len(parts) {
		return key, nil // not a key line: ssh-keygen's check refuses it
	}
	parts[i] = "|1|" + base64.StdEncoding.EncodeToString(salt) + "|" + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return strings.Join(parts, " "), nil
}

// knownHostsDiff is the module's compute_diff, and the file's content after the change.
func knownHostsDiff(path string, f *textFile, foundLine int, replace bool, state, key string) (map[string]any, string) {
	diff := map[string]any{"before_header": path, "after_header": path, "before": string(f.before), "after": ""}
	if !f.existed {
		diff["before_header"] = "/dev/null"
	}
	lines := pytext.SplitLinesKeepEnds(string(f.before))
	if (replace || state == "absent") && foundLine >= 1 && foundLine <= len(lines) {
		lines = append(lines[:foundLine-1], lines[foundLine:]...)
	}
	if state == "present" && (replace || foundLine == 0) {
		lines = append(lines, key)
	}
	diff["after"] = strings.Join(lines, "")
	return diff, diff["after"].(string)
}

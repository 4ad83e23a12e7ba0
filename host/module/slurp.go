package module

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

var slurpSpec = &argSpec{module: "slurp", options: map[string]option{
	"src": {kind: kindPath, required: true, aliases: []string{"path"}},
}}

// runSlurp returns a host file's content in base64 with one Exec.
var runSlurp = withSpec(slurpSpec, slurp)

func init() { register("slurp", Spec{Run: runSlurp}) }

func slurp(ctx context.Context, t *Task, p params) (Result, error) {
	src := p.str("src")
	data, _, msg, err := readRemote(ctx, t, src)
	if err != nil || msg != "" {
		return fail(msg), err
	}
	return Result{"changed": false, "content": base64.StdEncoding.EncodeToString(data), "source": src, "encoding": "base64"}, nil
}

// readRemote reads the file at path on the host with one Exec (the output carries any bytes),
// returning its content and its path with ~ expanded, or slurp's message for why it cannot be
// read.
func readRemote(ctx context.Context, t *Task, path string) (data []byte, expanded, msg string, err error) {
	if err := checkPath("src", path); err != nil {
		return nil, "", "", err
	}
	// As Python's open(): the errno of opening the path, then EISDIR for a directory that
	// opened. The shell's message tells the errno (C locale); dash says "No such file" for
	// ENOTDIR too, which the path's nearest existing ancestor being no directory tells apart.
	script := fmt.Sprintf(`p=%s; printf '%%s\n' "$p"; LC_ALL=C; export LC_ALL
if ! e=$( (exec 3<"$p") 2>&1); then
  case $e in
  *"No such file"*) d=$p; while d=$(dirname -- "$d"); [ ! -e "$d" ]; do :; done
    if [ -d "$d" ]; then echo ENOENT; else echo EOTHER; fi;;
  *"Permission denied"*) echo EACCES;;
  *) echo EOTHER;;
  esac
elif [ -d "$p" ]; then echo EISDIR
else echo OK; exec cat -- "$p"; fi`, shPath(path))
	res, err := t.sh(ctx, script, nil)
	if err != nil {
		return nil, "", "", err
	}
	expandedB, rest, _ := bytes.Cut(res.Stdout, []byte("\n"))
	status, data, _ := bytes.Cut(rest, []byte("\n"))
	expanded = string(expandedB)
	switch string(status) {
	case "OK":
		if res.RC != 0 {
			return nil, expanded, "unable to slurp file: " + string(bytes.TrimSpace(res.Stderr)), nil
		}
		return data, expanded, "", nil
	case "ENOENT":
		msg = "file not found: "
	case "EISDIR":
		msg = "source is a directory and must be a file: "
	case "EACCES":
		msg = "file is not readable: "
	case "EOTHER":
		msg = "unable to slurp file: "
	default:
		return nil, expanded, "", fmt.Errorf("read %s: unexpected output from the host: %q %s", path, res.Stdout, bytes.TrimSpace(res.Stderr))
	}
	return nil, expanded, msg + path, nil
}

// shCat is a shell function that prints each file named as its path, its size and its bytes,
// for parseCat.
const shCat = `tally_cat() { for f do printf '%s\n' "$f"; wc -c < "$f" || exit 1; cat -- "$f" || exit 1; done; }
`

// parseCat reads tally_cat's output.
func parseCat(out string) ([]fragment, error) {
	var frags []fragment
	for out != "" {
		name, r, ok1 := strings.Cut(out, "\n")
		size, r, ok2 := strings.Cut(r, "\n")
		n, err := strconv.Atoi(strings.TrimSpace(size))
		if !ok1 || !ok2 || err != nil || n > len(r) {
			return nil, errors.New("unexpected output from the host")
		}
		frags = append(frags, fragment{name: name, data: []byte(r[:n])})
		out = r[n:]
	}
	return frags, nil
}

package module

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var testSpec = &argSpec{module: "demo", options: map[string]option{
	"path":  {kind: kindPath, required: true, aliases: []string{"dest"}},
	"force": {kind: kindBool, def: true},
	"count": {kind: kindInt},
	"names": {kind: kindList},
	"state": {kind: kindStr, def: "present", choices: []string{"absent", "present"}},
	"a":     {kind: kindStr},
	"b":     {kind: kindStr},
}, exclusive: [][]string{{"a", "b"}}}

func TestArgSpecParse(t *testing.T) {
	tests := []struct {
		name    string
		args    map[string]any
		want    params
		wantErr string
	}{
		{name: "defaults and conversions from k=v strings",
			args: map[string]any{"path": "/x", "force": "no", "count": "7", "names": "a,b"},
			want: params{"path": "/x", "force": false, "count": 7, "names": []string{"a", "b"}, "state": "present", "a": nil, "b": nil}},
		{name: "alias and YAML types",
			args: map[string]any{"dest": "/x", "force": 1, "count": 7, "names": []any{"a", 1}, "state": "absent"},
			want: params{"path": "/x", "force": true, "count": 7, "names": []string{"a", "1"}, "state": "absent", "a": nil, "b": nil}},
		{name: "non-string to str as Python's str()",
			args: map[string]any{"path": 12, "a": true},
			want: params{"path": "12", "force": true, "count": nil, "names": nil, "state": "present", "a": "True", "b": nil}},
		{name: "unknown argument", args: map[string]any{"path": "/x", "zz": 1, "bogus": 2},
			wantErr: "Unsupported parameters for (demo) module: bogus, zz. Supported parameters include: a, b, count, force, names, path, state (dest)."},
		{name: "missing required", args: map[string]any{"force": true}, wantErr: "missing required arguments: path"},
		{name: "bad bool", args: map[string]any{"path": "/x", "force": "maybe"},
			wantErr: "argument 'force' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: 'y', 'yes'"},
		{name: "bad int", args: map[string]any{"path": "/x", "count": 1.5},
			wantErr: "argument 'count' is of type <class 'float'> and we were unable to convert to int: <class 'float'> cannot be converted to an int"},
		{name: "bad choice", args: map[string]any{"path": "/x", "state": "gone"},
			wantErr: "value of state must be one of: absent, present, got: gone"},
		{name: "mutually exclusive", args: map[string]any{"path": "/x", "a": "1", "b": "2"},
			wantErr: "parameters are mutually exclusive: a|b"},
		{name: "type errors come before unknown arguments", args: map[string]any{"path": "/x", "count": "x", "zz": 1},
			wantErr: "argument 'count'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := testSpec.parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parse = %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestCheckValidArgs(t *testing.T) {
	if err := checkValidArgs("debug", map[string]any{"msg": 1}, "msg", "var"); err != nil {
		t.Error(err)
	}
	err := checkValidArgs("debug", map[string]any{"msg": 1, "x": 1, "a": 2}, "msg", "var")
	if err == nil || err.Error() != "Invalid options for debug: a,x" {
		t.Errorf("error = %v", err)
	}
}

func TestBoolean(t *testing.T) {
	for _, v := range []any{true, "yes", "Y", " on ", "1", "true", "t", 1, 1.0} {
		if b, err := boolean(v); err != nil || !b {
			t.Errorf("boolean(%#v) = %v, %v; want true", v, b, err)
		}
	}
	for _, v := range []any{false, "no", "N", "off", "0", "False", "f", 0, 0.0} {
		if b, err := boolean(v); err != nil || b {
			t.Errorf("boolean(%#v) = %v, %v; want false", v, b, err)
		}
	}
	for _, v := range []any{"maybe", 2, "", []any{}} {
		if _, err := boolean(v); err == nil {
			t.Errorf("boolean(%#v) succeeded", v)
		}
	}
}

func TestResolveMode(t *testing.T) {
	tests := []struct {
		mode    any
		cur     uint32
		isDir   bool
		want    uint32
		wantErr string
	}{
		{mode: 0o644, want: 0o644},
		{mode: 420, want: 0o644}, // YAML 0644
		{mode: "0644", want: 0o644},
		{mode: "644", want: 0o644},
		{mode: "420", want: 0o420}, // a string is always octal
		{mode: "04755", want: 0o4755},
		{mode: "u=rw,g=r,o=", cur: 0o777, want: 0o640},
		{mode: "u+x", cur: 0o644, want: 0o744},
		{mode: "go-w", cur: 0o666, want: 0o644},
		{mode: "a+X", cur: 0o644, want: 0o644},
		{mode: "a+X", cur: 0o644, isDir: true, want: 0o755},
		{mode: "+x", cur: 0o644, want: 0o755}, // umask 022 keeps w off group and others
		// g=u copies the user's bits from before the change, as Ansible does (chmod(1) would
		// copy the new ones).
		{mode: "u=rwx,g=u-w", cur: 0o600, want: 0o740},
		{mode: "u+s,g+s,o+t", cur: 0o755, want: 0o7755},
		{mode: "yes", wantErr: "mode must be in octal or symbolic form: bad symbolic permission for mode: yes"},
		{mode: "u=q", wantErr: "bad symbolic permission for mode: u=q"},
		{mode: "017777", wantErr: "Invalid mode supplied, only permission info is allowed"},
		{mode: 0o17777, wantErr: "Invalid mode supplied, only permission info is allowed"},
	}
	for _, tt := range tests {
		got, err := resolveMode(tt.mode, tt.cur, tt.isDir, 0o022)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolveMode(%v) error = %v, want %q", tt.mode, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolveMode(%v, %o) = %o, %v; want %o", tt.mode, tt.cur, got, err, tt.want)
		}
	}
}

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: `echo hi`, want: []string{"echo", "hi"}},
		{in: `  a   b  `, want: []string{"a", "b"}},
		{in: `echo "a  b" c\ d "e\"f" 'g h'`, want: []string{"echo", "a  b", "c d", `e"f`, "g h"}},
		{in: `a"b c"d ''`, want: []string{"ab cd", ""}},
		{in: `"a\nb" 'a\nb' a\nb`, want: []string{`a\nb`, `a\nb`, "anb"}},
		{in: `"$HOME"`, want: []string{"$HOME"}},
		{in: `'open`, wantErr: "No closing quotation"},
		{in: `a\`, wantErr: "No escaped character"},
	}
	for _, tt := range tests {
		got, err := shlexSplit(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("shlexSplit(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("shlexSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestPyTime(t *testing.T) {
	deltas := map[time.Duration]string{
		0:                                       "0:00:00",
		3438 * time.Microsecond:                 "0:00:00.003438",
		time.Hour + 2*time.Minute + time.Second: "1:02:01",
		26 * time.Hour:                          "1 day, 2:00:00",
		50*time.Hour + 1500*time.Nanosecond:     "2 days, 2:00:00.000001",
	}
	for d, want := range deltas {
		if got := pyTimedelta(d); got != want {
			t.Errorf("pyTimedelta(%v) = %q, want %q", d, got, want)
		}
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 978074000, time.UTC)
	if got := pyDatetime(at); got != "2024-01-02 03:04:05.978074" {
		t.Errorf("pyDatetime = %q", got)
	}
	if got := pyDatetime(at.Truncate(time.Second)); got != "2024-01-02 03:04:05" {
		t.Errorf("pyDatetime of whole seconds = %q", got)
	}
}

// TestShGlob pins that the shell expands exactly the glob characters of a pattern.
func TestShGlob(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a b.txt", "c.log", "$x", "it's"} {
		writeFile(t, filepath.Join(dir, name), "", 0o644)
	}
	tests := map[string]string{
		"/*.txt":   "a b.txt|",
		"/?.log":   "c.log|",
		"/[ab]*":   "a b.txt|",
		"/[!a]*":   "$x|c.log|it's|",
		"/$x":      "$x|",
		"/it's":    "it's|",
		"/none*":   "none*|", // no match: the pattern itself, which no file exists for
		"/a b.txt": "a b.txt|",
	}
	for pattern, want := range tests {
		script := `for f in ` + shGlob(dir+pattern) + `; do printf '%s|' "${f#` + dir + `/}"; done`
		out, err := exec.Command("/bin/sh", "-c", script).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != want {
			t.Errorf("glob %q matched %q, want %q", pattern, out, want)
		}
	}
	home, _ := os.UserHomeDir()
	out, _ := exec.Command("/bin/sh", "-c", "printf %s "+shGlob("~/x y")).Output()
	if string(out) != home+"/x y" {
		t.Errorf("~ expanded to %q", out)
	}
}

package lookup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
)

func newRegistry(t *testing.T) (*Registry, *[]string) {
	t.Helper()
	var warnings []string
	tmpl := template.New()
	r := New(tmpl, vault.NewKeyring(vault.Secret{ID: vault.DefaultID, Password: []byte("alpha")}), "managed {file}",
		func(w string) { warnings = append(warnings, w) })
	tmpl.SetLookups(r)
	return r, &warnings
}

// playVars are a task's variables in testdata/play: the playbook directory, and the search
// path the executor fills (a role's path first when the task is in a role).
func playVars(t *testing.T, searchPath ...string) map[string]any {
	t.Helper()
	dir, err := filepath.Abs("testdata/play")
	if err != nil {
		t.Fatal(err)
	}
	sp := []any{}
	for _, p := range searchPath {
		sp = append(sp, filepath.Join(dir, p))
	}
	return map[string]any{"playbook_dir": dir, "ansible_search_path": sp, "greeting": "hello",
		"ansible_user": "{{ login }}", "login": "me", "ansible_ssh_port": "2022",
		"inventory_hostname": "h1", "hostvars": map[string]any{"h1": map[string]any{"from_hostvars": "hv"}}}
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLookups runs each plugin as lookup()/query() would, comparing the JSON of its list.
func TestLookups(t *testing.T) {
	r, _ := newRegistry(t)
	tests := []struct {
		name       string
		terms      []any
		opts       map[string]any
		searchPath []string // relative to testdata/play; default: the playbook dir
		want       string
		wantErr    string
	}{
		{name: "file", terms: []any{"a.txt", "b.txt"}, want: `["from play files","from play dir"]`},
		{name: "file", terms: []any{"a.txt", "r.txt"}, searchPath: []string{"roles/web", "roles/web/tasks", "."}, want: `["from role files","only in role"]`},
		{name: "file", terms: []any{"files/a.txt"}, want: `["from play files"]`},
		{name: "file", terms: []any{"nope"}, wantErr: "An unhandled exception occurred while running the lookup plugin 'file'. Error was a <class 'ansible.errors.AnsibleError'>, original message: could not locate file in lookup: nope"},
		{name: "ansible.builtin.file", terms: []any{"b.txt"}, opts: map[string]any{"rstrip": false}, want: `["from play dir\n"]`},
		{name: "template", terms: []any{"t.j2"}, opts: map[string]any{"template_vars": map[string]any{"template_vars_only": "tv"}}, want: `["hello, tv\n"]`},
		{name: "template", terms: []any{"managed.j2"}, want: `["managed managed.j2 managed.j2 \n"]`},
		{name: "template", terms: []any{"inc.j2"}, want: `["before hello after\n"]`},
		{name: "template", terms: []any{"delims.j2"}, opts: map[string]any{"variable_start_string": "[%", "variable_end_string": "%]",
			"comment_start_string": "<#", "comment_end_string": "#>"}, want: `["hello{{ greeting }}\n"]`},
		{name: "vars", terms: []any{"greeting", "from_hostvars"}, want: `["hello","hv"]`},
		{name: "vars", terms: []any{"nope"}, wantErr: "No variable found with this name: nope"},
		{name: "vars", terms: []any{"nope"}, opts: map[string]any{"default": "d"}, want: `["d"]`},
		{name: "varnames", terms: []any{"^gre", "^inv"}, want: `["greeting","inventory_hostname"]`},
		{name: "items", terms: []any{[]any{1, []any{2}}, 3}, want: `[1,[2],3]`},
		{name: "list", terms: []any{[]any{1, 2}}, want: `[[1,2]]`},
		{name: "dict", terms: []any{map[string]any{"b": 2, "a": 1}}, want: `[{"key":"a","value":1},{"key":"b","value":2}]`},
		{name: "dict", terms: []any{"x"}, wantErr: "with_dict expects a dict"},
		{name: "indexed_items", terms: []any{"a", []any{"b"}}, want: `[[0,"a"],[1,"b"]]`},
		{name: "nested", terms: []any{[]any{"a", "b"}, []any{1}, []any{[]any{"x", "y"}}}, want: `[["a",1,"x","y"],["b",1,"x","y"]]`},
		{name: "nested", terms: []any{}, wantErr: "with_nested requires at least one element in the nested list"},
		{name: "together", terms: []any{[]any{"a", "b"}, []any{1}}, want: `[["a",1],["b",null]]`},
		{name: "sequence", terms: []any{"5"}, want: `["1","2","3","4","5"]`},
		{name: "sequence", terms: []any{"0x0a-0x0c:%03x"}, want: `["00a","00b","00c"]`},
		{name: "sequence", terms: []any{"start=10 end=0 stride=-5 format=n%d"}, want: `["n10","n5","n0"]`},
		{name: "sequence", terms: []any{"start=2 count=3 stride=2"}, want: `["2","4","6"]`},
		{name: "sequence", terms: []any{"start=010 count=2"}, want: `["8","9"]`},
		{name: "sequence", terms: []any{"count=0"}, want: `[]`},
		{name: "sequence", terms: []any{"start=1"}, wantErr: "must specify count or end in with_sequence"},
		{name: "sequence", terms: []any{"start=5 end=1"}, wantErr: "to count backwards make stride negative"},
		{name: "sequence", terms: []any{"end=3 format=%d%d"}, wantErr: "bad formatting string: %d%d"},
		{name: "sequence", terms: []any{"end=3 foo=1"}, wantErr: "unrecognized arguments to with_sequence: ['foo']"},
		{name: "subelements", terms: []any{[]any{map[string]any{"n": "a", "k": []any{1, 2}}, map[string]any{"n": "b"}}, "k", map[string]any{"skip_missing": true}},
			want: `[[{"n":"a"},1],[{"n":"a"},2]]`},
		{name: "subelements", terms: []any{[]any{map[string]any{"n": "a", "g": map[string]any{"u": []any{1}, "o": 0}}}, "g.u"},
			want: `[[{"g":{"o":0},"n":"a"},1]]`},
		{name: "subelements", terms: []any{[]any{map[string]any{"n": "b"}}, "k"}, wantErr: "could not find 'k' key in iterated item '{'n': 'b'}'"},
		{name: "subelements", terms: []any{"x"}, wantErr: "subelements lookup expects a list of two or three items, "},
		{name: "subelements", terms: []any{9001, "k"}, wantErr: "subelements lookup expects a dictionary, got '9001'"},
		{name: "first_found", terms: []any{"nope", "b.txt"}, want: `["` + abs(t, "testdata/play/b.txt") + `"]`},
		{name: "first_found", terms: []any{map[string]any{"files": "nope,a.txt", "paths": "files"}}, want: `["` + abs(t, "testdata/play/files/a.txt") + `"]`},
		{name: "first_found", terms: []any{"a.txt"}, searchPath: []string{"roles/web", "."}, want: `["` + abs(t, "testdata/play/roles/web/files/a.txt") + `"]`},
		{name: "first_found", terms: []any{"nope"}, wantErr: "No file was found when using first_found."},
		{name: "first_found", terms: []any{"nope"}, opts: map[string]any{"skip": true}, want: `[]`},
		{name: "fileglob", terms: []any{"x.*"}, want: `["` + abs(t, "testdata/play/files/x.csv") + `","` + abs(t, "testdata/play/files/x.ini") + `"]`},
		{name: "fileglob", terms: []any{"files/*.txt"}, want: `["` + abs(t, "testdata/play/files/a.txt") + `"]`},
		{name: "ini", terms: []any{"name"}, opts: map[string]any{"file": "x.ini"}, want: `["one"]`},
		{name: "ini", terms: []any{"multi file=x.ini"}, want: `["first\nsecond"]`},
		{name: "ini", terms: []any{"shared section=s2 file=x.ini"}, want: `["yes"]`},
		{name: "ini", terms: []any{"k"}, opts: map[string]any{"file": "x.ini", "section": "nope"}, wantErr: "No section 'nope' in x.ini"},
		// A key without a value is configparser's ParsingError unless allow_no_value (alias
		// allow_none) is set, and then None, which the lookup leaves out.
		{name: "ini", terms: []any{"k"}, opts: map[string]any{"file": "novalue.cfg", "section": "s"},
			wantErr: "An unhandled exception occurred while running the lookup plugin 'ini'. Error was a <class 'configparser.ParsingError'>, original message: Source contains parsing errors: '<???>'\n\t[line  2]: 'flag\\n'"},
		{name: "ini", terms: []any{"flag", "k"}, opts: map[string]any{"file": "novalue.cfg", "section": "s", "allow_none": true}, want: `["v"]`},
		{name: "ini", terms: []any{"k section=s file=novalue.cfg allow_no_value=True"},
			wantErr: "original message: Source contains parsing errors"},
		{name: "csvfile", terms: []any{"a file=x.csv delimiter=; col=2"}, want: `["quoted; field"]`},
		{name: "csvfile", terms: []any{"zzz file=x.csv delimiter=;"}, opts: map[string]any{"default": "none"}, want: `["none"]`},
		{name: "lines", terms: []any{"printf 'a\\nb\\n'", "cat b.txt"}, want: `["a","b","from play dir"]`},
		{name: "pipe", terms: []any{"exit 3"}, wantErr: "lookup_plugin.pipe(exit 3) returned 3"},
		{name: "config", terms: []any{"DEFAULT_BECOME_USER", "DEFAULT_VAULT_IDENTITY"}, want: `["root","default"]`},
		{name: "config", terms: []any{"NOPE"}, wantErr: "Unable to find setting NOPE"},
		{name: "config", terms: []any{"NOPE"}, opts: map[string]any{"on_missing": "skip"}, want: `[]`},
		{name: "config", terms: []any{"ConfigManager"}, wantErr: `Invalid setting "ConfigManager" attempted`},
		{name: "config", terms: []any{"x"}, opts: map[string]any{"on_missing": "boo"}, wantErr: "valid values are: ['error', 'warn', 'skip']"},
		{name: "config", terms: []any{"remote_user", "port"}, opts: map[string]any{"plugin_type": "connection", "plugin_name": "ssh"}, want: `["me",2022]`},
		{name: "config", terms: []any{"remote_tmp"}, opts: map[string]any{"plugin_type": "shell", "plugin_name": "sh"}, want: `["~/.ansible/tmp"]`},
		{name: "no_such", terms: []any{"x"}, wantErr: "lookup plugin (no_such) not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+js(tt.terms), func(t *testing.T) {
			sp := tt.searchPath
			if sp == nil {
				sp = []string{"."}
			}
			got, err := r.Lookup(tt.name, tt.terms, tt.opts, playVars(t, sp...))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if js(got) != tt.want {
				t.Errorf("got %s, want %s", js(got), tt.want)
			}
		})
	}
}

func abs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestErrorsOption pins errors=: strict fails, warn warns and goes on, ignore goes on quietly;
// an undefined variable always fails.
func TestErrorsOption(t *testing.T) {
	r, warnings := newRegistry(t)
	vars := playVars(t, ".")
	for _, mode := range []string{"warn", "ignore"} {
		*warnings = nil
		got, err := r.Lookup("file", []any{"nope"}, map[string]any{"errors": mode}, vars)
		if err != nil || got != nil {
			t.Errorf("errors=%s: %v, %v; want nil, nil", mode, got, err)
		}
		warned := strings.Contains(strings.Join(*warnings, "\n"), "Lookup failed but the error is being ignored")
		if warned != (mode == "warn") {
			t.Errorf("errors=%s: warnings %q", mode, *warnings)
		}
	}
	if _, err := r.Lookup("vars", []any{"nope"}, map[string]any{"errors": "ignore"}, vars); err == nil {
		t.Error("errors=ignore hid an undefined variable")
	}
}

// TestLoopSubdir pins with_first_found in a template task: it looks in templates/.
func TestLoopSubdir(t *testing.T) {
	r, _ := newRegistry(t)
	got, err := r.Loop("first_found", []any{"t.j2"}, playVars(t, "."), "template")
	if err != nil {
		t.Fatal(err)
	}
	if want := abs(t, "testdata/play/templates/t.j2"); js(got) != js([]any{want}) {
		t.Errorf("got %s, want [%s]", js(got), want)
	}
	if _, err := r.Loop("first_found", []any{"t.j2"}, playVars(t, "."), "copy"); err == nil {
		t.Error("with_first_found in a copy task found a template")
	}
}

// TestPasswordCreatesFileOnce pins the password lookup: a new file 0600 in a 0700 directory,
// holding the password and a newline, read back unchanged by the next call.
func TestPasswordCreatesFileOnce(t *testing.T) {
	r, _ := newRegistry(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "creds", "db")
	term := path + " length=16 chars=ascii_lowercase,digits"
	first, err := r.Lookup("password", []any{term}, nil, playVars(t, "."))
	if err != nil {
		t.Fatal(err)
	}
	pw := first[0].(string)
	if len(pw) != 16 || strings.Trim(pw, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("password %q: want 16 lowercase letters and digits", pw)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != pw+"\n" {
		t.Fatalf("file holds %q (%v), want %q", data, err, pw+"\n")
	}
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700 | os.ModeDir} {
		if fi, err := os.Stat(p); err != nil || fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode(), want)
		}
	}
	again, err := r.Lookup("password", []any{term}, nil, playVars(t, "."))
	if err != nil || again[0] != pw {
		t.Errorf("second lookup %v, %v; want %q", again, err, pw)
	}
	if _, err := r.Lookup("password", []any{path + " bogus=1"}, nil, playVars(t, ".")); err == nil {
		t.Error("an unknown parameter was accepted")
	}
}

// TestPyCSV pins the rows Python's csv.reader (excel dialect) gives.
func TestPyCSV(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a,b\nc,d\n", `[["a","b"],["c","d"]]`},
		{"\"x, y\",z\r\n", `[["x, y","z"]]`},
		{"\"\"\"The Rock\"\" Johnson\",Dwayne\n", `[["\"The Rock\" Johnson","Dwayne"]]`},
		{"Example,\"crazy email\"@example.com,9876\nnext,1\n", `[["Example","crazy email@example.com","9876"],["next","1"]]`},
		{"a\"b,c\n\n", `[["a\"b","c"]]`},
		{"a,\n\"multi\nline\",x", `[["a",""],["multi\nline","x"]]`},
	}
	for _, tt := range tests {
		if got := js(pyCSV(tt.in, ',')); got != tt.want {
			t.Errorf("pyCSV(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// TestPasswordEncryptKeepsASalt pins the password lookup's encrypt as Ansible's: the password
// hashed with the salt the file keeps after it (the hash is ansible-playbook's for the same
// file), a salt added to a file without one, and the same hash on every later lookup.
func TestPasswordEncryptKeepsASalt(t *testing.T) {
	r, _ := newRegistry(t)
	dir := t.TempDir()
	salted := filepath.Join(dir, "salted")
	if err := os.WriteFile(salted, []byte("secretpw salt=abcdefgh12345678\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := r.Lookup("password", []any{salted + " encrypt=sha512_crypt"}, nil, playVars(t, "."))
	if want := "$6$rounds=656000$abcdefgh12345678$ORBQoqLgxdsqFvNbonYQ0zqJveWo0xWfQB6C68zxTbr2xKlmA/RMbyP5v4v0fRwXJO9tlQaDIj85V3hYvq7KX."; err != nil || got[0] != want {
		t.Errorf("encrypt=sha512_crypt: %v, %v; want %q", got, err, want)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("secretpw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := r.Lookup("password", []any{plain + " encrypt=sha256_crypt"}, nil, playVars(t, "."))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(plain)
	pw, salt, ok := strings.Cut(strings.TrimSuffix(string(data), "\n"), " salt=")
	if !ok || pw != "secretpw" || len(salt) != 16 || first[0] != "$5$rounds=535000$"+salt+"$"+strings.Split(first[0].(string), "$")[4] {
		t.Errorf("file %q, hash %q: want the password and a 16-character salt, hashed with it", data, first[0])
	}
	again, err := r.Lookup("password", []any{plain + " encrypt=sha256_crypt"}, nil, playVars(t, "."))
	if err != nil || again[0] != first[0] {
		t.Errorf("second lookup %v, %v; want %q", again, err, first[0])
	}
	if clear, err := r.Lookup("password", []any{plain}, nil, playVars(t, ".")); err != nil || clear[0] != "secretpw" {
		t.Errorf("without encrypt: %v, %v; want the password without its salt", clear, err)
	}
}

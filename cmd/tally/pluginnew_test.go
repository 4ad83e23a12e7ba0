package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPluginNewScaffoldBuildsAndRuns makes a plugin project in each language outside the
// repository, builds it with its own Makefile (and runs the Go one's tests), and runs the
// plugin in a playbook run.
func TestPluginNewScaffoldBuildsAndRuns(t *testing.T) {
	tally := tallyBinary(t)
	for _, lang := range []string{"go", "c"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			name := "counts-" + lang
			dir := filepath.Join(t.TempDir(), name)
			if out, err := exec.Command(tally, "plugin", "new", name, "--lang", lang, "--dir", dir).CombinedOutput(); err != nil {
				t.Fatalf("tally plugin new: %v\n%s", err, out)
			}
			steps := [][]string{{"make"}}
			if lang == "go" {
				steps = append(steps, []string{"make", "test"})
			}
			for _, step := range steps {
				cmd := exec.Command(step[0], step[1:]...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%s in the new project: %v\n%s", strings.Join(step, " "), err, out)
				}
			}
			out, err := exec.Command(tally, "run", "--callback-path", dir, "--callbacks", name,
				"-i", "../../testdata/demo/inventory.ini", "../../testdata/demo/site.yml").CombinedOutput()
			if err != nil {
				t.Fatalf("tally run: %v\n%s", err, out)
			}
			if want := "[callback " + name + "] results: "; !strings.Contains(string(out), want) || strings.Contains(string(out), "WARNING") {
				t.Errorf("the run's output does not have %q, or warns:\n%s", want, out)
			}
		})
	}
}

func TestPluginNewRefusesBadInput(t *testing.T) {
	existing := t.TempDir()
	tests := []struct {
		name, lang, dir, want string
	}{
		{"Bad Name", "go", filepath.Join(existing, "x"), `name "Bad Name": want lower-case letters`},
		{"ok", "rust", filepath.Join(existing, "y"), `--lang "rust": want go or c`},
		{"ok", "go", existing, "already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			err := newPlugin(tt.name, tt.lang, tt.dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("newPlugin(%q, %q) = %v, want an error saying %q", tt.name, tt.lang, err, tt.want)
			}
		})
	}
}

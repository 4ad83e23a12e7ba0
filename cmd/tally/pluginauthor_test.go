package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestScaffoldWithARequiredDirOptionPassesItsTestAndCheck gives the Go scaffold a required
// dir option, as a plugin that writes a record has: its own test and tally plugins check
// grant it a temporary directory, and check says what the plugin wrote there.
func TestScaffoldWithARequiredDirOptionPassesItsTestAndCheck(t *testing.T) {
	tally := tallyBinary(t)
	name := "record"
	dir := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command(tally, "plugin", "new", name, "--dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("tally plugin new: %v\n%s", err, out)
	}
	main := filepath.Join(dir, "main.go")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	// A required dir option, and a file written there at the end of the run.
	edited := strings.Replace(string(src), "	Options: []meta.Option{\n",
		"	Options: []meta.Option{\n		{Name: \"dir\", Type: meta.Dir, Required: true},\n", 1)
	edited = strings.Replace(edited, "	sort.Strings(parts)\n",
		"	sort.Strings(parts)\n	if err := os.WriteFile(p.c.String(\"dir\")+\"/counts.txt\", []byte(strings.Join(parts, \" \")), 0o644); err != nil {\n		return err\n	}\n", 1)
	edited = strings.Replace(edited, "import (\n", "import (\n	\"os\"\n", 1)
	if edited == string(src) || !strings.Contains(edited, "counts.txt") || !strings.Contains(edited, "Required: true") {
		t.Fatal("the scaffold's main.go is not as this test expects")
	}
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, step := range [][]string{{"make"}, {"make", "test"}, {tally, "plugins", "check", name + ".wasm"}} {
		cmd := exec.Command(step[0], step[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(step, " "), err, out)
		}
		if step[0] == tally && !strings.Contains(string(out), "      dir: wrote counts.txt (") {
			t.Errorf("tally plugins check does not say what the plugin wrote:\n%s", out)
		}
	}
}

// TestPluginsListSearchesTheProjectDirectory pins that tally plugins list, without
// --playbook, looks in ./callback_plugins as tally run does for a playbook there, and says
// where it looked.
func TestPluginsListSearchesTheProjectDirectory(t *testing.T) {
	project, elsewhere := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(project, "callback_plugins"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, "callback_plugins", "local.wasm"), []byte("not yet"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tallyBinary(t), "plugins", "list", "--callback-path", elsewhere)
	cmd.Dir = project
	out, _ := cmd.CombinedOutput()
	dir := filepath.Join(project, "callback_plugins")
	for _, want := range []string{"local ", filepath.Join(dir, "local.wasm"), "searched, in order: " + dir + ", " + elsewhere + "\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("tally plugins list in %s:\n%s\ndoes not say %q", project, out, want)
		}
	}
}

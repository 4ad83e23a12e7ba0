// Package golden tests the bundled plugins: it runs a plugin natively (pluginsdk/plugintest)
// over the event streams of real runs in plugins/testdata/runs, and compares what the plugin
// wrote, to the terminal, the log and its granted directory, with golden files in the plugin's
// testdata/. `go test ./plugins/... -update` rewrites them.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

var update = flag.Bool("update", false, "rewrite the golden files of the bundled plugins")

// Runs is where the recorded event streams are, from a plugin's directory.
const Runs = "../testdata/runs"

// Case is how one plugin is tested.
type Case struct {
	// New returns a fresh runner of the plugin: every run starts from a new plugin value.
	New func() (*pluginsdk.Runner, error)
	// Options are the plugin's option values.
	Options map[string]any
	// DirOption, if set, names the plugin's dir option: each run gets a fresh directory, and
	// the files in it afterwards are part of the output.
	DirOption string
	// Masks replace what changes from run to run (times, durations) in the output.
	Masks []Mask
}

// Mask replaces every match of Pattern with Replacement.
type Mask struct {
	Pattern     *regexp.Regexp
	Replacement string
}

// Common masks.
var (
	// Timestamp masks RFC 3339 times, as the event JSON and most logs write them.
	Timestamp = Mask{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`), "<time>"}
)

// Run runs the case over every recorded run, one subtest each, comparing with
// testdata/RUN.golden.
func Run(t *testing.T, c Case) {
	t.Helper()
	runs, err := filepath.Glob(filepath.Join(Runs, "*.jsonl"))
	if err != nil || len(runs) == 0 {
		t.Fatalf("no recorded runs in %s (%v)", Runs, err)
	}
	for _, path := range runs {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			got := Output(t, c, path)
			Compare(t, filepath.Join("testdata", name+".golden"), got)
		})
	}
}

// Output runs the plugin of c over the recorded run at path and returns what it wrote,
// masked.
func Output(t *testing.T, c Case, path string) string {
	t.Helper()
	events, err := plugintest.ReadEvents(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.New()
	if err != nil {
		t.Fatal(err)
	}
	opts := plugintest.Options{Options: map[string]any{}, JobID: events[0].JobID}
	for k, v := range c.Options {
		opts.Options[k] = v
	}
	dir := ""
	if c.DirOption != "" {
		dir = t.TempDir()
		opts.Options[c.DirOption] = dir
	}
	res, err := plugintest.Run(r, events, opts)
	if err != nil {
		t.Fatalf("the plugin failed: %v\nterminal:\n%s\nlog:\n%s", err, res.Terminal, res.Log)
	}
	var out strings.Builder
	section := func(title, text string) {
		if text != "" {
			out.WriteString("=== " + title + "\n" + text)
			if !strings.HasSuffix(text, "\n") {
				out.WriteString("\n")
			}
		}
	}
	section("terminal", res.Terminal)
	section("log", res.Log)
	if dir != "" {
		var files []string
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(dir, f)
			section("file "+rel, string(data))
		}
	}
	s := out.String()
	for _, m := range c.Masks {
		s = m.Pattern.ReplaceAllString(s, m.Replacement)
	}
	return s
}

// Compare requires got to equal the golden file at path, or rewrites it with -update.
func Compare(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update rewrites it):\n%s", path, firstDifference(string(want), got))
	}
}

// firstDifference shows the first line where want and got differ, with the lines around it.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			line := func(l []string) string {
				if i < len(l) {
					return l[i]
				}
				return "(end of output)"
			}
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + line(w) + "\n  got:  " + line(g)
		}
	}
	return "(no line differs)"
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/plugins/internal/golden"
	"github.com/tallyrun/tally/pluginsdk"
)

func newRunner() (*pluginsdk.Runner, error) { return pluginsdk.NewRunner(metadata, &plugin{}) }

// TestJUnitReport pins the reports of recorded runs.
func TestJUnitReport(t *testing.T) {
	golden.Run(t, golden.Case{New: newRunner, DirOption: "dir"})
}

// TestJUnitReportIsValid validates every report against the JUnit schema with xmllint.
func TestJUnitReportIsValid(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatalf("xmllint is not on PATH: run `make test`, which installs libxml2-utils (%v)", err)
	}
	runs, _ := filepath.Glob(filepath.Join(golden.Runs, "*.jsonl"))
	for _, path := range runs {
		t.Run(filepath.Base(path), func(t *testing.T) {
			out := golden.Output(t, golden.Case{New: newRunner, DirOption: "dir", Options: map[string]any{"fail_on_change": true}}, path)
			_, doc, found := strings.Cut(out, ".xml\n")
			if !found {
				t.Fatalf("no report:\n%s", out)
			}
			file := filepath.Join(t.TempDir(), "report.xml")
			if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit.xsd", file).CombinedOutput(); err != nil {
				t.Errorf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

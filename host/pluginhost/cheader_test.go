package pluginhost

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// cPlugin compiles the C plugin source file with pluginsdk/c/tally.h, as make plugins builds
// the bundled tree plugin.
func cPlugin(t testing.TB, src string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plugin.wasm")
	cmd := exec.Command("clang", "--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-Wall", "-Wextra", "-Werror",
		"-I", "../../pluginsdk/c", "-o", out, src)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("clang %s (make test installs clang and WASI): %v\n%s", src, err, msg)
	}
	module, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return module
}

// TestCHeaderReadsEveryField runs a C plugin that reads every field of every event through
// tally.h, summing what it read as testplugins.Touch does natively: the header's accessors
// miss nothing and misread nothing.
func TestCHeaderReadsEveryField(t *testing.T) {
	t.Parallel()
	events := testEvents(t)
	dir := t.TempDir()
	plugintest.Install(t, dir, "touch", cPlugin(t, "testdata/plugins/touch/touch.c"))
	o, err := runPlugins(t, testSettings(t, dir, Flags{Callbacks: []string{"touch"}}), events)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.warnings) > 0 {
		t.Errorf("warnings: %q", o.warnings)
	}
	if want := touchLog("touch", events); o.log.String() != want {
		t.Errorf("log = %q, want %q", o.log.String(), want)
	}
}

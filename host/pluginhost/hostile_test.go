package pluginhost

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// runHostile runs the hostile plugin in mode, with more options and limits, over the test
// events, and returns what came of it.
func runHostile(t *testing.T, mode string, limits config.Limits, verbosity int, options ...string) *outcome {
	t.Helper()
	dir := t.TempDir()
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	s := testSettings(t, dir, Flags{Callbacks: []string{"hostile"}, Options: append([]string{"hostile.mode=" + mode}, options...)})
	s.PluginLimits["hostile"] = limits
	o, err := runPluginsVerbose(t, s, testEvents(t), verbosity)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// controls matches what a terminal acts on: C0 controls but tab and newline, DEL, C1.
var controls = regexp.MustCompile("[\x00-\x08\x0b-\x1f\x7f\u0080-\u009f]")

func TestPluginLogIsCountedAsWrittenAndCannotBeForged(t *testing.T) {
	t.Parallel()
	t.Run("flood of bare newlines stays within the limit, prefixes counted", func(t *testing.T) {
		t.Parallel()
		const limit = 64 << 10
		o := runHostile(t, "flood", config.Limits{Output: limit}, 0)
		if n := len(o.log.String()); n > limit+100 {
			t.Errorf("the log got %d bytes from a plugin whose limit is %d", n, limit)
		}
		if len(o.warnings) != 1 || !strings.Contains(o.warnings[0], "wrote more than its output limit of 64 KiB") {
			t.Errorf("warnings %q, want the plugin stopped at its output limit", o.warnings)
		}
	})
	t.Run("escapes and newlines are escaped in the log and the warning", func(t *testing.T) {
		t.Parallel()
		o := runHostile(t, "forge", config.Limits{}, 0)
		log := o.log.String()
		for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
			if !strings.HasPrefix(line, "[callback hostile] ") || controls.MatchString(line) {
				t.Errorf("log line %q: not the plugin's, or it holds control characters", line)
			}
		}
		for _, want := range []string{`[callback hostile] \x1b[2J\x1b[Hcleared\rover\u009b31m\x9b` + "\n", "[callback hostile] in pieces\n"} {
			if !strings.Contains(log, want) {
				t.Errorf("log %q\ndoes not hold %q", log, want)
			}
		}
		if len(o.warnings) != 1 {
			t.Fatalf("warnings %q, want one", o.warnings)
		}
		w := o.warnings[0]
		if strings.Contains(w, "\n") || controls.MatchString(w) || !strings.HasSuffix(w, `boom\n[WARNING]: forged\nPLAY RECAP *****\x1b[2J\xff`) {
			t.Errorf("warning %q: want the plugin's message on one line, escaped", w)
		}
	})
	t.Run("a plugin name longer than 64 characters is refused", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		name := strings.Repeat("n", 65)
		installTiny(t, dir, name, tiny{meta: tinyMeta(name, "aggregate", "")})
		o, err := runPlugins(t, testSettings(t, dir, Flags{Callbacks: []string{name}}), testEvents(t)[:3])
		if err != nil {
			t.Fatal(err)
		}
		if len(o.warnings) != 1 || !strings.Contains(o.warnings[0], "longer than 64 characters") {
			t.Errorf("warnings %q, want the plugin refused for its name", o.warnings)
		}
	})
}

func TestSymlinksInAGrantedDirectoryCannotLeadOut(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	granted, outside := filepath.Join(parent, "granted"), filepath.Join(parent, "outside")
	for _, d := range []string{granted, outside, filepath.Join(granted, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Links the operator's own tools might have left, or someone planted.
	for link, target := range map[string]string{
		"out":        "../outside",
		"abs":        outside,
		"passwd":     "/etc/passwd",
		"secretlink": "../outside/secret.txt",
		"sub/up":     "../../outside",
		"inner":      "sub",
		"sub/back":   "../inner",
		"loop":       "loop",
	} {
		if err := os.Symlink(target, filepath.Join(granted, link)); err != nil {
			t.Fatal(err)
		}
	}
	o := runHostile(t, "links", config.Limits{}, 0, "hostile.dir="+granted)
	if len(o.warnings) != 1 {
		t.Fatalf("warnings %q, want one", o.warnings)
	}
	got := map[string]string{}
	_, attempts, _ := strings.Cut(o.warnings[0], "(runner_on_ok): ")
	for _, attempt := range strings.Split(attempts, "; ") {
		what, result, _ := strings.Cut(attempt, ": ")
		got[what] = result
	}
	for _, what := range []string{"read passwd", "read out/secret.txt", "read abs/secret.txt", "read sub/up/secret.txt",
		"read secretlink", "read sub/../out/secret.txt", "write out/new.txt", "write sub/up/new.txt", "write secretlink",
		"write abs/new.txt", "list out", "rename out", "read loop"} {
		if r, ok := got[what]; !ok || !strings.HasPrefix(r, "error ") {
			t.Errorf("%s: %q, want it refused", what, r)
		}
	}
	for what, want := range map[string]string{"write inner/ok.txt": `ok ""`, "read sub/back/ok.txt": `ok "escaped"`} {
		if got[what] != want {
			t.Errorf("%s: %q, want %q: links that stay inside work", what, got[what], want)
		}
	}
	if strings.Contains(o.warnings[0], "root:") || strings.Contains(o.warnings[0], `"secret"`) {
		t.Errorf("the plugin read outside its directory: %q", o.warnings[0])
	}
	entries, _ := os.ReadDir(outside)
	if data, _ := os.ReadFile(secret); len(entries) != 1 || string(data) != "secret" {
		t.Errorf("the plugin wrote outside its directory: %d entries, secret.txt %q", len(entries), data)
	}
}

// TestSleepingPluginTakesNoCPU compares the CPU time the process takes while the plugin
// sleeps with the CPU time a spinning goroutine gets just before and after, over the same
// time: on a loaded machine both are smaller, and a sleeping plugin still takes much less than
// spinning does. Not parallel, so that the process's CPU time is the plugin's. The sleep is
// long against the fixed CPU cost of delivering the events (about 0.1 s under -race), so that
// on a machine loaded many times over, where the spinning goroutine gets little, that cost
// still stays far below half of what it gets.
func TestSleepingPluginTakesNoCPU(t *testing.T) {
	dir := t.TempDir()
	plugintest.Install(t, dir, "hostile", goPlugin(t, hostilePkg))
	const sleep = 5 * time.Second
	s := testSettings(t, dir, Flags{Callbacks: []string{"hostile"}, Options: []string{"hostile.mode=sleep", "hostile.sleep=" + sleep.String()}})
	s.PluginLimits["hostile"] = config.Limits{Timeout: time.Minute}
	var warnings []string
	run, err := Start(context.Background(), s, Output{Log: os.Stderr, Warn: func(w string) { warnings = append(warnings, w) }, Fallback: func() collector.Callback { return display{&outcome{}} }})
	if err != nil {
		t.Fatal(err)
	}
	run.loading.Wait() // the plugin's start is not its sleep
	spun := spinning(t, sleep)
	before := cpuTime(t)
	for _, cb := range run.Callbacks() {
		for _, e := range testEvents(t) {
			_ = cb.Event(e)
		}
		_ = cb.Close()
	}
	used := cpuTime(t) - before
	run.Close()
	spun = min(spun, spinning(t, sleep))
	if len(warnings) > 0 {
		t.Errorf("warnings %q", warnings)
	}
	if spun < sleep/20 {
		t.Skipf("the machine gives a spinning goroutine %v of CPU in %v: too loaded to tell", spun, sleep)
	}
	if used > spun/2 {
		t.Errorf("the process used %v of CPU while the plugin slept %v; spinning got %v", used, sleep, spun)
	}
}

// spinning returns the CPU time the process takes while a goroutine spins for d.
func spinning(t *testing.T, d time.Duration) time.Duration {
	before := cpuTime(t)
	for end := time.Now().Add(d); time.Now().Before(end); {
	}
	return cpuTime(t) - before
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestSleepingPluginIsWokenAtItsTimeLimit(t *testing.T) {
	t.Parallel()
	o := runHostile(t, "sleep", config.Limits{Timeout: 2 * time.Second}, 0, "hostile.sleep=1h")
	if len(o.warnings) != 1 || !strings.Contains(o.warnings[0], "ran longer than its time limit of 2s and was stopped") {
		t.Errorf("warnings %q, want the plugin stopped at its time limit", o.warnings)
	}
}

func TestPanickingPluginShowsItsStackWithV(t *testing.T) {
	t.Parallel()
	for _, verbosity := range []int{0, 1} {
		o := runHostile(t, "panic", config.Limits{}, verbosity)
		log := o.log.String()
		shown := strings.Contains(log, "[callback hostile] panic: hostile plugin panics [recovered]\n") &&
			regexp.MustCompile(`\[callback hostile\] \s+\S*/testplugins/hostile.go:\d+`).MatchString(log)
		if shown != (verbosity > 0) {
			t.Errorf("-v %d: log %q; want the panic and its stack from -v on", verbosity, log)
		}
	}
}

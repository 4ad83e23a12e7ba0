package pluginhost_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/pluginhost"
	"github.com/tallyrun/tally/host/pluginhost/wasmtest"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

func TestWasmtestRunsAPluginFile(t *testing.T) {
	t.Parallel()
	events, err := plugintest.ReadEvents("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	dir, out := t.TempDir(), t.TempDir()
	file := plugintest.Install(t, dir, "recorder", pluginhost.GoPlugin(t, "./testdata/plugins/recorder"))
	res, err := wasmtest.Run(context.Background(), file, events[:10], wasmtest.Options{
		Options:  map[string]string{"dir": out, "label": "seen"},
		CacheDir: pluginhost.SharedCache(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) > 0 || !strings.HasPrefix(res.Log, "[callback recorder] 10 events, sum ") {
		t.Errorf("warnings %q, log %q", res.Warnings, res.Log)
	}
	data, err := os.ReadFile(filepath.Join(out, "events.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(string(data), "\n", 2)[0]; first != fmt.Sprintf("seen 1 %s", events[0].Event) {
		t.Errorf("first line %q", first)
	}
}

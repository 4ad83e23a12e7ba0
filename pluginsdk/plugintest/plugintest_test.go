package plugintest_test

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

func TestReadEventsKeepsWholeNumbersInts(t *testing.T) {
	events, err := plugintest.ReadEvents("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 {
		t.Fatalf("%d events, want 2", len(events))
	}
	res := events[0].Data.Result
	want := map[string]any{"rc": 0, "ratio": 0.5, "lines": []any{1, 2.5}}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("res = %#v, want %#v", res, want)
	}
	if n := events[0].Data.Task.Args["n"]; n != 2 {
		t.Errorf("args n = %#v, want 2", n)
	}
	if n := events[1].Data.Stats.GlobalCustomStats["n"]; n != 3 {
		t.Errorf("global custom stats n = %#v, want 3", n)
	}
}

func TestBuildMakesAPlugin(t *testing.T) {
	module := plugintest.Build(t, "./testdata/hello")
	if !bytes.HasPrefix(module, []byte("\x00asm")) {
		t.Fatalf("Build returned %d bytes that are not WebAssembly", len(module))
	}
	if again := plugintest.Build(t, "./testdata/hello"); &again[0] != &module[0] {
		t.Error("the second Build of a package built it again")
	}
}

package pluginhost

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/meta"
)

// optsMeta declares one option of each kind.
var optsMeta = tinyMeta("opts", "aggregate", `,"capabilities":["filesystem"],"options":[
	{"name":"count","type":"int","default":3,"env":["TALLY_OPTS_COUNT"]},
	{"name":"flag","type":"bool"},
	{"name":"label","type":"str","required":true},
	{"name":"names","type":"list"},
	{"name":"dir","type":"dir","env":["TALLY_OPTS_DIR"]}]`)

func TestOptionsComeFromCommandLineThenEnvironmentThenConfigThenDefaults(t *testing.T) {
	dir := t.TempDir()
	file := installTiny(t, dir, "opts", tiny{meta: optsMeta})
	granted := t.TempDir()
	config := map[string]meta.Setting{
		"label": {Value: "from config", Source: "tally.yaml:3"},
		"count": {Value: 4, Source: "tally.yaml:4"},
		"dir":   {Value: filepath.Base(granted), Source: "tally.yaml:5", Dir: filepath.Dir(granted)},
	}
	tests := []struct {
		name  string
		env   map[string]string
		flags []string
		want  map[string]any
	}{
		{"config and defaults", nil, nil, map[string]any{"count": int64(4), "label": "from config", "dir": granted}},
		{"environment over config", map[string]string{"TALLY_OPTS_COUNT": "5"}, nil, map[string]any{"count": int64(5), "label": "from config", "dir": granted}},
		{"command line over environment", map[string]string{"TALLY_OPTS_COUNT": "5"}, []string{"opts.count=6", "opts.flag=yes", "opts.names=a, b"},
			map[string]any{"count": int64(6), "flag": true, "names": []string{"a", "b"}, "label": "from config", "dir": granted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings(t, dir, Flags{Options: tt.flags})
			s.File["opts"] = config
			s.Getenv = func(k string) string { return tt.env[k] }
			values, dirs := resolveOptions(t, s, file)
			if !reflect.DeepEqual(values, tt.want) {
				t.Errorf("options = %#v\nwant %#v", values, tt.want)
			}
			if len(dirs) != 1 || dirs[0] != granted {
				t.Errorf("mounted %q, want %q", dirs, granted)
			}
		})
	}
}

func TestOptionMistakesStopTheRunBeforeItStarts(t *testing.T) {
	dir := t.TempDir()
	installTiny(t, dir, "opts", tiny{meta: optsMeta})
	missing := filepath.Join(t.TempDir(), "nope")
	tests := []struct {
		name  string
		flags []string
		file  map[string]meta.Setting
		want  string
	}{
		{"wrong type", []string{"opts.label=x", "opts.count=abc"}, nil,
			`--callback-opt opts.count=abc: plugin opts option "count": want an integer, got "abc"`},
		{"not a boolean", []string{"opts.label=x", "opts.flag=maybe"}, nil, `option "flag": want a boolean`},
		{"unknown key", []string{"opts.label=x", "opts.colour=red"}, nil,
			`--callback-opt opts.colour=red: plugin opts has no option "colour" (it has count, flag, label, names, dir)`},
		{"unknown key in the config file", []string{"opts.label=x"}, map[string]meta.Setting{"size": {Value: 1, Source: "tally.yaml:9"}},
			`tally.yaml:9: plugin opts has no option "size"`},
		{"wrong type in the config file", nil, map[string]meta.Setting{"label": {Value: "x"}, "count": {Value: []any{1}, Source: "tally.yaml:9"}},
			`tally.yaml:9: plugin opts option "count": want an integer, got []interface {} [1]`},
		{"required option unset", nil, nil, `plugin opts: option "label" is required`},
		{"directory that does not exist", []string{"opts.label=x", "opts.dir=" + missing}, nil,
			"callback plugin opts: option dir: " + missing + " is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings(t, dir, Flags{Callbacks: []string{"opts"}, Options: tt.flags})
			s.File["opts"] = tt.file
			_, err := runPlugins(t, s, nil)
			var oe *optionError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v\nwant an option error saying %q", err, tt.want)
			}
		})
	}
}

// resolveOptions loads the plugin file and resolves its options.
func resolveOptions(t *testing.T, s Settings, file string) (map[string]any, []string) {
	t.Helper()
	h, err := New(s, io.Discard, func(w string) { t.Error(w) })
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	p, err := h.Load(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	values, dirs, err := h.options(p)
	if err != nil {
		t.Fatal(err)
	}
	return values, dirs
}

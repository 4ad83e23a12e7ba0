package meta

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/event"
)

func valid() Metadata {
	return Metadata{
		Name: "log_plays", Version: "1.0", Type: Aggregate, EventSchema: event.SchemaVersion,
		Events:       []event.Type{event.RunnerOnOK, event.PlaybookOnStats},
		Capabilities: []Capability{Filesystem},
		Options: []Option{
			{Name: "dir", Type: Dir, Env: []string{"TALLY_LOG_PLAYS_DIR"}},
			{Name: "count", Type: Int, Default: 3.0}, // as JSON decodes it
		},
	}
}

func TestValidateNamesEveryProblem(t *testing.T) {
	if m := valid(); m.Validate() != nil {
		t.Fatalf("valid metadata: %v", m.Validate())
	}
	tests := []struct {
		name   string
		change func(m *Metadata)
		want   []string
	}{
		{"bad name", func(m *Metadata) { m.Name = "Log Plays" }, []string{`name "Log Plays": want lower-case`}},
		{"no version, bad type", func(m *Metadata) { m.Version, m.Type = "", "fancy" }, []string{"no version", `type "fancy"`}},
		{"other schema", func(m *Metadata) { m.EventSchema = 2 }, []string{"event schema 2: this tally has event schema 1"}},
		{"events", func(m *Metadata) { m.Events = []event.Type{"runner_on_ok", "nope", "runner_on_ok"} },
			[]string{`unknown event "nope"`, `subscribes to "runner_on_ok" twice`}},
		{"no events", func(m *Metadata) { m.Events = nil }, []string{"subscribes to no event"}},
		{"capability", func(m *Metadata) { m.Capabilities = []Capability{"network"} },
			[]string{`unknown capability "network"`, `option "dir": a dir option needs the "filesystem" capability`}},
		{"option env", func(m *Metadata) { m.Options[0].Env = []string{"HOME", "TALLY_LOG_PLAYS_", "TALLY_OTHER_X"} },
			[]string{`"HOME": must be TALLY_LOG_PLAYS_SOMETHING`, `"TALLY_LOG_PLAYS_"`, `"TALLY_OTHER_X"`}},
		{"dir default", func(m *Metadata) { m.Options[0].Default = "/" }, []string{"a dir option cannot have a default"}},
		{"bad default", func(m *Metadata) { m.Options[1].Default = "many" }, []string{`option "count": default: want an integer, got "many"`}},
		{"option type and name", func(m *Metadata) { m.Options[1].Type, m.Options[1].Name = "path", "Count" },
			[]string{`option "Count": want a lower-case name`, `type "path"`}},
		{"duplicate option", func(m *Metadata) { m.Options[1].Name = "dir" }, []string{`option "dir" declared twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := valid()
			m.Options = append([]Option(nil), m.Options...)
			tt.change(&m)
			err := m.Validate()
			if err == nil {
				t.Fatal("valid")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\ndoes not say %q", err, want)
				}
			}
		})
	}
}

func TestConvert(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		typ  OptionType
		in   any
		want any
		err  string
	}{
		{Str, "x", "x", ""},
		{Str, 12, "12", ""},
		{Str, []any{"x"}, nil, "want a string"},
		{Bool, "Yes", true, ""},
		{Bool, "off", false, ""},
		{Bool, true, true, ""},
		{Bool, "maybe", nil, `want a boolean (true/false, yes/no, on/off, 1/0), got "maybe"`},
		{Int, " 42 ", int64(42), ""},
		{Int, 42, int64(42), ""},
		{Int, 42.0, int64(42), ""},
		{Int, 4.5, nil, "want an integer, got float64 4.5"},
		{Float, "0.5", 0.5, ""},
		{Float, 2, 2.0, ""},
		{List, "a, b,,c", []string{"a", "b", "c"}, ""},
		{List, []any{"a", 1}, []string{"a", "1"}, ""},
		{Dir, "logs", filepath.Join(cwd, "logs"), ""},
		{Dir, "", nil, `want a directory path, got ""`},
		{"path", "x", nil, `unknown option type "path"`},
	}
	for _, tt := range tests {
		got, err := Convert(tt.typ, tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Convert(%s, %#v): err = %v, want %q", tt.typ, tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Convert(%s, %#v) = %#v, %v; want %#v", tt.typ, tt.in, got, err, tt.want)
		}
	}
}

func TestResolveTakesTheFirstLayerThatSetsAnOption(t *testing.T) {
	m := Metadata{Name: "p", Options: []Option{
		{Name: "a", Type: Int, Default: 1},
		{Name: "b", Type: Str},
		{Name: "c", Type: Dir},
		{Name: "d", Type: Str, Required: true},
	}}
	high := map[string]Setting{"a": {Value: "3", Source: "--callback-opt"}}
	low := map[string]Setting{"a": {Value: 2}, "c": {Value: "logs", Source: "tally.yaml:4", Dir: "/etc/tally"}, "d": {Value: "x"}}
	got, err := m.Resolve(high, low)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(3), "c": "/etc/tally/logs", "d": "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Resolve = %#v, want %#v", got, want)
	}
	_, err = m.Resolve(map[string]Setting{"e": {Value: 1, Source: "tally.yaml:9"}, "a": {Value: "x", Source: "TALLY_P_A"}})
	for _, want := range []string{
		`tally.yaml:9: plugin p has no option "e" (it has a, b, c, d)`,
		`TALLY_P_A: plugin p option "a": want an integer, got "x"`,
		`plugin p: option "d" is required`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Resolve error %v\ndoes not say %q", err, want)
		}
	}
}

func TestEnvPrefix(t *testing.T) {
	for name, want := range map[string]string{"log_plays": "TALLY_LOG_PLAYS_", "json-v2.1": "TALLY_JSON_V2_1_"} {
		if got := EnvPrefix(name); got != want {
			t.Errorf("EnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestJSONIsWhatEncodingJSONReadsBack(t *testing.T) {
	m := valid()
	m.Description = "logs \"plays\"\n\x01 \u00e9"
	m.Progress = 1234
	m.Options = append(m.Options,
		Option{Name: "names", Type: List, Default: []any{"a", "b"}, Required: true, Description: "who"},
		Option{Name: "on", Type: Bool, Default: true},
		Option{Name: "label", Type: Str, Default: "x"},
	)
	data, err := m.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got Metadata
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, m)
	}
	m.Options[1].Default = struct{}{}
	if _, err := m.JSON(); err == nil || !strings.Contains(err.Error(), `option "count": default of type struct {}`) {
		t.Errorf("a default of another type: err = %v", err)
	}
	var problem struct{ Error string }
	if err := json.Unmarshal(ErrorJSON(errors.New("bad \"thing\"\x02")), &problem); err != nil || problem.Error != "bad \"thing\"\x02" {
		t.Errorf("ErrorJSON read back %q, %v", problem.Error, err)
	}
}

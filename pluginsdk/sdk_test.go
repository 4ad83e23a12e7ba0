package pluginsdk_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
)

// okCounter has two hooks, so it subscribes to two events.
type okCounter struct {
	oks   int
	fail  bool
	panic bool
}

func (c *okCounter) RunnerOnOK(e *event.Event) error {
	c.oks++
	switch {
	case c.fail:
		return errors.New("cannot count")
	case c.panic:
		var m map[string]int
		m["boom"]++
	}
	return nil
}

func (c *okCounter) PlaybookOnStats(*event.Event) error { return nil }

// everything wants every event, and one of them through its own hook.
type everything struct{ seen []string }

func (p *everything) Event(e *event.Event) error {
	p.seen = append(p.seen, "event:"+string(e.Event))
	return nil
}

func (p *everything) RunnerOnOK(e *event.Event) error {
	p.seen = append(p.seen, "hook:"+string(e.Event))
	return nil
}

var plainMeta = meta.Metadata{Name: "p", Version: "1", Type: meta.Aggregate}

func TestNewRunnerCompletesTheMetadata(t *testing.T) {
	tests := []struct {
		name   string
		meta   meta.Metadata
		plugin any
		events []event.Type
		caps   []meta.Capability
	}{
		{"hooks", plainMeta, &okCounter{}, []event.Type{event.RunnerOnOK, event.PlaybookOnStats}, nil},
		{"every event", plainMeta, &everything{}, meta.AllEvents, nil},
		{"stdout with a directory",
			meta.Metadata{Name: "p", Version: "1", Type: meta.Stdout, Options: []meta.Option{{Name: "dir", Type: meta.Dir}}},
			&okCounter{}, []event.Type{event.RunnerOnOK, event.PlaybookOnStats}, []meta.Capability{meta.Terminal, meta.Filesystem}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := pluginsdk.NewRunner(tt.meta, tt.plugin)
			if err != nil {
				t.Fatal(err)
			}
			m := r.Metadata()
			if !slices.Equal(m.Events, tt.events) || !slices.Equal(m.Capabilities, tt.caps) || m.EventSchema != event.SchemaVersion {
				t.Errorf("events %v, capabilities %v, schema %d", m.Events, m.Capabilities, m.EventSchema)
			}
		})
	}
	if _, err := pluginsdk.NewRunner(plainMeta, struct{}{}); err == nil || !strings.Contains(err.Error(), "subscribes to no event") {
		t.Errorf("a plugin without hooks: err = %v", err)
	}
}

func events(types ...event.Type) []*event.Event {
	var out []*event.Event
	for i, t := range types {
		out = append(out, &event.Event{Seq: uint64(i + 1), Event: t})
	}
	return out
}

func TestRunnerDispatchesToTheHookOfEachEvent(t *testing.T) {
	p := &everything{}
	r, err := pluginsdk.NewRunner(plainMeta, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plugintest.Run(r, events(event.PlaybookOnStart, event.RunnerOnOK, event.PlaybookOnStats), plugintest.Options{BatchSize: 2}); err != nil {
		t.Fatal(err)
	}
	want := []string{"event:playbook_on_start", "hook:runner_on_ok", "event:playbook_on_stats"}
	if !slices.Equal(p.seen, want) {
		t.Errorf("seen %q, want %q", p.seen, want)
	}
}

func TestRunnerNamesTheEventAHookFailedOn(t *testing.T) {
	tests := []struct {
		name   string
		plugin *okCounter
		want   string
	}{
		{"error", &okCounter{fail: true}, "event 2 (runner_on_ok): cannot count"},
		{"panic", &okCounter{panic: true}, "event 2 (runner_on_ok): panic: assignment to entry in nil map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := pluginsdk.NewRunner(plainMeta, tt.plugin)
			if err != nil {
				t.Fatal(err)
			}
			_, err = plugintest.Run(r, events(event.PlaybookOnStart, event.RunnerOnOK, event.RunnerOnOK), plugintest.Options{})
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if tt.plugin.oks != 1 {
				t.Errorf("the hook ran %d times; delivery should stop at the failure", tt.plugin.oks)
			}
		})
	}
}

// configured records what Configure gave it, and writes to both outputs.
type configured struct {
	got string
	raw bool
}

func (c *configured) Configure(cfg *pluginsdk.Config) error {
	c.got = fmt.Sprintf("job=%s v=%d color=%v n=%d on=%v ratio=%v names=%q label=%q set=%v,%v",
		cfg.JobID, cfg.Verbosity, cfg.Color, cfg.Int("n"), cfg.Bool("on"), cfg.Float("ratio"), cfg.List("names"),
		cfg.String("label"), cfg.IsSet("label"), cfg.IsSet("unset"))
	fmt.Fprintln(cfg.Terminal, "to the terminal")
	cfg.Logf("to the %s", "log")
	return nil
}

func (c *configured) RawValues() bool { return c.raw }

func (c *configured) RunnerOnOK(e *event.Event) error {
	if (e.Data.Result == nil) != c.raw {
		return fmt.Errorf("raw %v but Result %v", c.raw, e.Data.Result)
	}
	return nil
}

func TestConfigureGetsOptionsAndOutputs(t *testing.T) {
	m := meta.Metadata{Name: "p", Version: "1", Type: meta.Stdout, Options: []meta.Option{
		{Name: "n", Type: meta.Int, Default: 2}, {Name: "on", Type: meta.Bool}, {Name: "ratio", Type: meta.Float},
		{Name: "names", Type: meta.List}, {Name: "label", Type: meta.Str}, {Name: "unset", Type: meta.Str},
	}}
	for _, raw := range []bool{false, true} {
		p := &configured{raw: raw}
		r, err := pluginsdk.NewRunner(m, p)
		if err != nil {
			t.Fatal(err)
		}
		ok := events(event.RunnerOnOK)
		ok[0].Data.Result = map[string]any{"changed": false}
		res, err := plugintest.Run(r, ok, plugintest.Options{
			JobID: "j", Verbosity: 2, Color: true,
			Options: map[string]any{"on": "yes", "ratio": "0.5", "names": "a,b", "label": "x"},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := `job=j v=2 color=true n=2 on=true ratio=0.5 names=["a" "b"] label="x" set=true,false`
		if p.got != want || res.Terminal != "to the terminal\n" || res.Log != "to the log\n" {
			t.Errorf("configured %q, terminal %q, log %q\nwant %q", p.got, res.Terminal, res.Log, want)
		}
	}
}

func TestRegisterKeepsOnePlugin(t *testing.T) {
	if _, err := pluginsdk.Registered(); err == nil || !strings.Contains(err.Error(), "no plugin registered") {
		t.Fatalf("before Register: err = %v", err)
	}
	pluginsdk.Register(plainMeta, &okCounter{})
	if r, err := pluginsdk.Registered(); err != nil || r.Metadata().Name != "p" {
		t.Fatalf("after Register: %v, %v", r, err)
	}
	pluginsdk.Register(plainMeta, &okCounter{})
	if r, err := pluginsdk.Registered(); r != nil || err == nil || !strings.Contains(err.Error(), "Register was called 2 times") {
		t.Errorf("after a second Register: %v, %v", r, err)
	}
}

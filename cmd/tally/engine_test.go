package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/tallyrun/tally/pluginsdk/event"
)

// crossCheckExceptions are the compat playbooks whose events under tally's engine differ from
// Ansible's, each with the reason (docs/compatibility.md). Their recap and exit code still
// must agree.
var crossCheckExceptions = map[string]string{}

// TestEngineAnsibleMatchesAnsibleAndCrossChecksTallysEngine runs every compat playbook once
// under --engine ansible and once under tally's engine, both with --artifacts. The bridged run
// must give ansible-playbook's recap and exit code (recorded in the playbook's header), and no
// warning that the collector's count differs from Ansible's own recap. Then, host by host, the
// sequence of (event, task, status, item) that tally's engine emitted must be the one Ansible's
// callbacks saw: tally's engine checked event by event against Ansible, not only by its recap.
func TestEngineAnsibleMatchesAnsibleAndCrossChecksTallysEngine(t *testing.T) {
	ansiblePlaybook(t)
	tally := tallyBinary(t)
	setup := compatSetup{inventory: "inventory.ini"}
	eachCompatPlaybook(t, nil, func(t *testing.T, p compatPlaybook) {
		bridged, bridgedDir := runRecorded(t, setup, []string{tally, "run", "--engine", "ansible"}, p)
		aborted := len(p.recap) == 0 && p.rc != 0
		if bridged.rc != p.rc || !aborted && !maps.Equal(bridged.recap, p.recap) {
			t.Errorf("--engine ansible differs from ansible-playbook's recorded result on %s: rc %d, want %d\n%s",
				p.name, bridged.rc, p.rc, diffRecaps("header", p.recap, "bridged", bridged.recap))
		}
		if strings.Contains(bridged.stderr, "differs from Ansible's own recap") {
			t.Errorf("the collector's count of the bridged events differs from Ansible's recap:\n%s", bridged.stderr)
		}
		native, nativeDir := runRecorded(t, setup, []string{tally, "run"}, p)
		want, got := hostSequences(t, bridgedDir), hostSequences(t, nativeDir)
		diff := diffSequences(want, got)
		reason, excepted := crossCheckExceptions[strings.TrimSuffix(p.name, ".yml")]
		switch {
		case diff != "" && !excepted:
			t.Errorf("tally's engine emits other events than Ansible's callbacks see on %s:\n%s", p.name, diff)
		case diff == "" && excepted:
			t.Errorf("%s is listed as an exception (%s) but its events now agree: remove it from crossCheckExceptions", p.name, reason)
		}
		if t.Failed() {
			t.Logf("--engine ansible:\n%s", bridged.output())
			t.Logf("tally's engine:\n%s", native.output())
		}
	})
}

// runRecorded runs a compat playbook with command and --artifacts, and returns the run and the
// directory of its artifacts.
func runRecorded(t *testing.T, setup compatSetup, command []string, p compatPlaybook) (runResult, string) {
	t.Helper()
	dir := t.TempDir()
	r := runPlaybook(t, setup, append(slices.Clone(command), "--artifacts", dir), p.args, p.name)
	return r, dir
}

// step is what the cross-check compares of one event.
type step struct {
	event, task, status, item string
}

func (s step) String() string {
	out := s.event + " [" + s.task + "]"
	if s.status != "" {
		out += " " + s.status
	}
	if s.item != "" {
		out += " (item=" + s.item + ")"
	}
	return out
}

// hostSequences reads a run's events.jsonl and returns, per host, its events in order.
func hostSequences(t *testing.T, dir string) map[string][]step {
	t.Helper()
	_, _, _, events := readArtifacts(t, dir)
	out := map[string][]step{}
	for i := range events {
		e := &events[i]
		if e.Data.Host == "" {
			continue
		}
		s := step{event: string(e.Event), status: event.ResultStatus(e)}
		if e.Data.Task != nil {
			s.task = e.Data.Task.Name
		}
		if strings.HasPrefix(s.event, "runner_item_") {
			s.status = "ok"
			if c, _ := e.Data.Result["changed"].(bool); c {
				s.status = "changed"
			}
		}
		s.item = itemOf(e.Data.Result)
		out[e.Data.Host] = append(out[e.Data.Host], s)
	}
	return out
}

// itemOf is the loop item a result is for, as the display labels it; "" for none.
func itemOf(res map[string]any) string {
	v, ok := res["_ansible_item_label"]
	if !ok {
		loopVar, _ := res["ansible_loop_var"].(string)
		if v, ok = res[loopVar]; !ok || loopVar == "" {
			return ""
		}
	}
	data, _ := json.Marshal(v)
	return string(data)
}

// diffSequences describes, per host, where got first departs from want; "" when equal.
func diffSequences(want, got map[string][]step) string {
	hosts := slices.Sorted(maps.Keys(want))
	for h := range got {
		if _, ok := want[h]; !ok {
			hosts = append(hosts, h)
		}
	}
	var b strings.Builder
	for _, h := range hosts {
		w, g := want[h], got[h]
		i := 0
		for i < len(w) && i < len(g) && w[i] == g[i] {
			i++
		}
		if i == len(w) && i == len(g) {
			continue
		}
		show := func(s []step) string {
			if i < len(s) {
				return s[i].String()
			}
			return "(end)"
		}
		fmt.Fprintf(&b, "  %s, event %d of %d (ansible) / %d (tally):\n    ansible %s\n    tally   %s\n", h, i+1, len(w), len(g), show(w), show(g))
	}
	return b.String()
}

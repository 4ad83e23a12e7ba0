package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/plugintest"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// recordRun runs the plugin natively on events, with the run's command line, and returns
// the documents it put, by collection and key.
func recordRun(t *testing.T, events []*event.Event, line wire.CommandLine, options ...string) map[string]map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]map[string]any{}
	pluginsdk.SetSinkPut(func(sink, collection, key string, doc []byte) int32 {
		v, err := wire.DecodeValue(bytes.Clone(doc)) // doc is the plugin's only during the call
		if err != nil || sink != "runs" {
			t.Errorf("sink %q, %s/%s: %v", sink, collection, key, err)
			return 4
		}
		if got[collection] == nil {
			got[collection] = map[string]map[string]any{}
		}
		got[collection][key] = v.(map[string]any)
		return 0
	})
	t.Cleanup(func() { pluginsdk.SetSinkPut(nil) })
	r, err := pluginsdk.NewRunner(metadata, &plugin{})
	if err != nil {
		t.Fatal(err)
	}
	opts := map[string]any{"sink": "runs"}
	for i := 0; i+1 < len(options); i += 2 {
		opts[options[i]] = options[i+1]
	}
	if _, err := plugintest.Run(r, events, plugintest.Options{JobID: "job-1", Options: opts, CommandLine: line}); err != nil {
		t.Fatal(err)
	}
	return got
}

// factsRun is a run of two hosts: web1 gathers its facts, web2 fails to.
func factsRun() []*event.Event {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	task := &event.Task{Name: "Gathering Facts", Action: "gather_facts", Path: "site.yml:1", UUID: "t1"}
	facts := map[string]any{"ansible_hostname": "web1", "ansible_fqdn": "web1.example.com", "ansible_distribution": "Debian",
		"ansible_os_family": "Debian", "ansible_default_ipv4": map[string]any{"address": "10.0.0.5", "interface": "eth0"},
		"ansible_env": map[string]any{"HOME": "/root"}}
	return []*event.Event{
		{Event: event.PlaybookOnStart, Data: event.Data{Playbook: "site.yml"}},
		{Event: event.RunnerOnOK, UUID: "r1", Data: event.Data{Host: "web1", Task: task, Start: start, End: start.Add(time.Second),
			Result: map[string]any{"changed": false, "ansible_facts": facts}}},
		{Event: event.RunnerOnFailed, UUID: "r2", Data: event.Data{Host: "web2", Task: task, Start: start, End: start.Add(time.Second),
			Result: map[string]any{"msg": "no python", "ansible_facts": map[string]any{"ansible_hostname": "not-kept"}}}},
		{Event: event.PlaybookOnStats, Data: event.Data{Stats: &event.Stats{Status: "failed", RC: 2, Start: start, End: start.Add(time.Second),
			Hosts: map[string]event.HostStats{"web1": {OK: 1, Processed: 1}, "web2": {Failures: 1, Processed: 1}}}}},
	}
}

func TestDBPluginRunsRecordHasTheCommandLinesLimitAndTags(t *testing.T) {
	for _, tt := range []struct {
		name string
		line wire.CommandLine
		want map[string]any
	}{
		{"given", wire.CommandLine{Limit: "web*:!web3", Tags: []string{"deploy", "config"}, SkipTags: []string{"slow"}},
			map[string]any{"limit": "web*:!web3", "tags": []any{"deploy", "config"}, "skip_tags": []any{"slow"}}},
		{"tags only", wire.CommandLine{Tags: []string{"deploy"}}, map[string]any{"tags": []any{"deploy"}}},
		{"none given", wire.CommandLine{}, map[string]any{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := recordRun(t, factsRun(), tt.line)["runs"]["job-1"]
			if run == nil {
				t.Fatal("no runs record")
			}
			got := map[string]any{}
			for _, k := range []string{"limit", "tags", "skip_tags"} {
				if v, ok := run[k]; ok {
					got[k] = v
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runs record's command line = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDBPluginHostsRecordSummarisesTheGatheredFacts(t *testing.T) {
	hosts := recordRun(t, factsRun(), wire.CommandLine{})["hosts"]
	want := map[string]any{"ansible_hostname": "web1", "ansible_fqdn": "web1.example.com", "ansible_distribution": "Debian",
		"ansible_os_family": "Debian", "ansible_default_ipv4": map[string]any{"address": "10.0.0.5"}}
	if got := hosts["web1"]["facts"]; !reflect.DeepEqual(got, want) {
		t.Errorf("web1's facts = %v, want %v", got, want)
	}
	// A failed task's facts are not the host's.
	if got, ok := hosts["web2"]["facts"]; ok {
		t.Errorf("web2, whose facts were not gathered, has facts %v", got)
	}
}

func TestDBPluginResultsRecordKeepsTheResultUpToResultSize(t *testing.T) {
	results := recordRun(t, factsRun(), wire.CommandLine{}, "result_size", "120")["results"]
	big, _ := json.Marshal(factsRun()[1].Data.Result)
	r1 := results["r1"] // its result is over 120 bytes of JSON
	if got, want := r1["res"], map[string]any{"truncated": len(big)}; !reflect.DeepEqual(got, want) {
		t.Errorf("r1's res = %v, want %v", got, want)
	}
	r2 := results["r2"]
	want := map[string]any{"host": "web2", "status": "failed", "changed": false, "task": "Gathering Facts", "task_uuid": "t1",
		"action": "gather_facts", "path": "site.yml:1", "start": "2026-12-07T12:00:00Z", "end": "2026-12-07T12:00:01Z", "duration": 0.0,
		"msg": "no python", "res": map[string]any{"msg": "no python", "ansible_facts": map[string]any{"ansible_hostname": "not-kept"}}}
	if !reflect.DeepEqual(r2, want) {
		t.Errorf("r2 = %v, want %v", r2, want)
	}
}

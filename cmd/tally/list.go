package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
)

// list prints what --list-hosts and --list-tasks ask for, in ansible-playbook's layout.
// Templated tags are rendered with the play's vars and the extra vars.
func list(stdout, stderr io.Writer, inv *inventory.Inventory, pbs []*playbook.Playbook, f runFlags, extra map[string]any) int {
	for _, pb := range pbs {
		fmt.Fprintf(stdout, "\nplaybook: %s\n", pb.Path)
		for i, play := range pb.Plays {
			vars := maps.Clone(play.Vars)
			if vars == nil {
				vars = map[string]any{}
			}
			maps.Copy(vars, extra)
			tl := tagLister{tmpl: template.New(), vars: vars}
			fmt.Fprintf(stdout, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, play.Hosts, play.Name, strings.Join(tl.render(play.Tags), ","))
			if f.listHosts {
				hosts, err := inv.Select(play.Hosts)
				if err != nil {
					errorf(stderr, err)
					return executor.RCError
				}
				fmt.Fprintf(stdout, "    pattern: %s\n    hosts (%d):\n", patternList(play.Hosts), len(hosts))
				for _, h := range hosts {
					fmt.Fprintf(stdout, "      %s\n", h.Name)
				}
			}
			if f.listTasks {
				fmt.Fprintln(stdout, "    tasks:")
				for _, section := range [][]*playbook.Task{play.PreTasks, play.Tasks, play.PostTasks} {
					tl.listTasks(stdout, section, play.Tags, f)
				}
			}
		}
	}
	return executor.RCOK
}

// tagLister renders tags with a play's variables.
type tagLister struct {
	tmpl *template.Engine
	vars map[string]any
}

// render templates each tag; one that cannot be rendered is kept as written.
func (tl tagLister) render(tags []string) []string {
	out := make([]string, len(tags))
	for i, tag := range tags {
		out[i] = tag
		if v, err := tl.tmpl.Render(tag, tl.vars); err == nil {
			out[i] = template.String(v)
		}
	}
	return out
}

// listTasks lists tasks with their tags rendered, without repeats and sorted, as Ansible.
func (tl tagLister) listTasks(w io.Writer, tasks []*playbook.Task, inherited []string, f runFlags) {
	for _, t := range tasks {
		tags := append(append([]string{}, inherited...), t.Tags...)
		if t.IsBlock() {
			tl.listTasks(w, t.Block, tags, f) // as Ansible, rescue and always are not listed
			continue
		}
		tags = tl.render(tags)
		if !executor.Selected(tags, f.tags, f.skipTags) {
			continue
		}
		slices.Sort(tags)
		name := t.Name
		if name == "" {
			name = t.Action
		}
		fmt.Fprintf(w, "      %s\tTAGS: [%s]\n", name, strings.Join(slices.Compact(tags), ", "))
	}
}

// patternList shows a play's hosts as Ansible's --list-hosts does: the comma-separated
// patterns as a Python list.
func patternList(hosts string) string {
	var quoted []string
	for _, p := range strings.Split(hosts, ",") {
		if p = strings.TrimSpace(p); p != "" {
			quoted = append(quoted, "'"+p+"'")
		}
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

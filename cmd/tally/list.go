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
)

// list prints what --list-hosts, --list-tasks and --list-tags ask for, in ansible-playbook's layout.
func list(stdout, stderr io.Writer, inv *inventory.Inventory, pbs []*playbook.Playbook, f runFlags) int {
	for _, pb := range pbs {
		fmt.Fprintf(stdout, "\nplaybook: %s\n", pb.Path)
		for i, play := range pb.Plays {
			fmt.Fprintf(stdout, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, play.Hosts, play.Name, strings.Join(play.Tags, ", "))
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
			if !f.listTasks && !f.listTags {
				continue
			}
			if f.listTasks {
				fmt.Fprintln(stdout, "    tasks:")
			}
			tags := map[string]bool{}
			for _, t := range play.Tags {
				tags[t] = true
			}
			for _, section := range [][]*playbook.Task{play.PreTasks, play.RoleBlocks, play.Tasks, play.PostTasks} {
				listTasks(stdout, section, play.Tags, "", f, tags)
			}
			if f.listTags {
				fmt.Fprintf(stdout, "      TASK TAGS: [%s]\n", strings.Join(slices.Sorted(maps.Keys(tags)), ", "))
			}
		}
	}
	return executor.RCOK
}

// listTasks lists the tasks --tags and --skip-tags select (with --list-tasks), in the role
// called role ("" outside roles), and adds their tags to all.
func listTasks(w io.Writer, tasks []*playbook.Task, inherited []string, role string, f runFlags, all map[string]bool) {
	for _, t := range tasks {
		tags := append(append([]string{}, inherited...), t.Tags...)
		if t.IsBlock() {
			inner := role
			if t.Role != nil {
				inner = t.Role.Name
			}
			listTasks(w, t.Block, tags, inner, f, all) // as Ansible, rescue and always are not listed
			continue
		}
		if !executor.Selected(tags, f.tags, f.skipTags) {
			continue
		}
		for _, tag := range tags {
			all[tag] = true
		}
		if !f.listTasks {
			continue
		}
		name := t.Action // as Ansible, an unnamed task is listed by its action, without its role
		if t.Name != "" && role != "" {
			name = role + " : " + t.Name
		} else if t.Name != "" {
			name = t.Name
		}
		shown := slices.Compact(slices.Sorted(slices.Values(tags)))
		fmt.Fprintf(w, "      %s\tTAGS: [%s]\n", name, strings.Join(shown, ", "))
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

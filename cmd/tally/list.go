package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/tallyrun/tally/host/executor"
	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/host/vault"
	"github.com/tallyrun/tally/internal/pytext"
)

// list prints what --list-hosts, --list-tasks and --list-tags ask for, in ansible-playbook's
// layout. As ansible-playbook, it reads each play's vars_files, and renders templated tags with the play's vars and the extra vars.
func list(stdout, stderr io.Writer, in loaded, f runFlags) int {
	x := executor.New(executor.Config{Inventory: in.inventory, ExtraVars: in.extraVars, Vault: in.vault})
	playVars := map[*playbook.Play]map[string]any{}
	for _, pb := range in.playbooks {
		for _, play := range pb.Plays {
			// As ansible-playbook without a host: a vars file that is missing or named with
			// undefined variables is passed over, one that cannot be decrypted is an error.
			vars, err := x.PlayVars(play)
			var verr *vault.Error
			if errors.As(err, &verr) {
				errorf(stderr, err)
				return executor.RCError
			} else if err != nil {
				vars = play.Vars
			}
			pv := maps.Clone(vars)
			if pv == nil {
				pv = map[string]any{}
			}
			maps.Copy(pv, in.extraVars)
			playVars[play] = pv
		}
	}
	for _, pb := range in.playbooks {
		fmt.Fprintf(stdout, "\nplaybook: %s\n", pb.Path)
		for i, play := range pb.Plays {
			vars := playVars[play]
			tl := tagLister{tmpl: template.New(), vars: vars, all: map[string]bool{}}
			playTags := tl.render(play.Tags)
			fmt.Fprintf(stdout, "\n  play #%d (%s): %s\tTAGS: [%s]\n", i+1, play.Hosts, play.Name, strings.Join(playTags, ","))
			if f.listHosts {
				hosts, err := in.inventory.Select(play.Hosts)
				if err != nil {
					errorf(stderr, err)
					return executor.RCError
				}
				fmt.Fprintf(stdout, "    pattern: %s\n    hosts (%d):\n", patternList(play.HostsList), len(hosts))
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
			for _, t := range playTags {
				tl.all[t] = true
			}
			for _, section := range [][]*playbook.Task{play.PreTasks, play.RoleBlocks, play.Tasks, play.PostTasks} {
				tl.listTasks(stdout, section, play.Tags, "", f)
			}
			if f.listTags {
				fmt.Fprintf(stdout, "      TASK TAGS: [%s]\n", strings.Join(slices.Sorted(maps.Keys(tl.all)), ", "))
			}
		}
	}
	return executor.RCOK
}

// tagLister renders tags with a play's variables, and gathers the tags of the tasks listed.
type tagLister struct {
	tmpl *template.Engine
	vars map[string]any
	all  map[string]bool
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

// listTasks lists the tasks --tags and --skip-tags select (with --list-tasks), in the role
// called role ("" outside roles), with their tags rendered, without repeats and sorted, as
// Ansible; it adds their tags to all.
func (tl tagLister) listTasks(w io.Writer, tasks []*playbook.Task, inherited []string, role string, f runFlags) {
	for _, t := range tasks {
		tags := append(append([]string{}, inherited...), t.Tags...)
		if t.IsBlock() {
			inner := role
			if t.Role != nil {
				inner = t.Role.Name
			}
			tl.listTasks(w, t.Block, tags, inner, f) // as Ansible, rescue and always are not listed
			continue
		}
		if !executor.Selected(tags, f.tags, f.skipTags) {
			continue
		}
		tags = tl.render(tags)
		for _, tag := range tags {
			tl.all[tag] = true
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
		slices.Sort(tags)
		fmt.Fprintf(w, "      %s\tTAGS: [%s]\n", name, strings.Join(slices.Compact(tags), ", "))
	}
}

// patternList shows a play's hosts as Ansible's --list-hosts does: as written, a Python list
// (a string is one entry, commas and all).
func patternList(hosts []string) string {
	quoted := make([]string, len(hosts))
	for i, p := range hosts {
		quoted[i] = pytext.Repr(p)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

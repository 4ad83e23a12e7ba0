package executor

import (
	"regexp"
	"strings"

	"github.com/tallyrun/tally/host/playbook"
)

// --start-at-task, as Ansible's PlayIterator: plays before the one holding the first task whose
// name matches run nothing (not even fact gathering); in that play the facts are gathered and
// the tasks before the match are passed over without a word; from there on everything runs.

// StartReached reports whether the run got to the task --start-at-task names (true without
// the flag).
func (x *Executor) StartReached() bool { return x.cfg.StartAt == "" || x.started }

// runs reports whether task c runs as far as --start-at-task goes: the play's fact gathering
// and the tasks from the start on do, the start is marked reached when c is it.
func (x *Executor) runs(c *compiled) bool {
	if x.StartReached() || c.gather {
		return true
	}
	x.started = nameMatches(c.task, x.cfg.StartAt)
	return x.started
}

// holdsStart reports whether the play has a task (selected by the tags) --start-at-task names.
func (x *Executor) holdsStart(play *playbook.Play) bool {
	var walk func(tasks []*playbook.Task, tags []string) bool
	walk = func(tasks []*playbook.Task, tags []string) bool {
		for _, t := range tasks {
			tt := concat(tags, t.Tags)
			if t.IsBlock() {
				if walk(t.Block, tt) || walk(t.Rescue, tt) || walk(t.Always, tt) {
					return true
				}
			} else if Selected(tt, x.cfg.Tags, x.cfg.SkipTags) && nameMatches(t, x.cfg.StartAt) {
				return true
			}
		}
		return false
	}
	for _, section := range [][]*playbook.Task{play.PreTasks, play.Tasks, play.PostTasks} {
		if walk(section, play.Tags) {
			return true
		}
	}
	return false
}

// nameMatches reports whether the task's name, as written or as shown (the action when it has
// none), is pattern or matches it as a shell glob (Python's fnmatch).
func nameMatches(t *playbook.Task, pattern string) bool {
	name := t.Name
	if name == "" {
		name = t.Action
	}
	re := fnmatchRE(pattern)
	return t.Name == pattern || name == pattern || t.Name != "" && re.MatchString(t.Name) || re.MatchString(name)
}

// fnmatchRE is Python's fnmatch.translate: * and ? match any character, [...] a set ([! negates).
func fnmatchRE(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 || j == 0 && !strings.Contains(pattern[i+2:], "]") {
				b.WriteString(`\[`)
				continue
			}
			if j == 0 { // "[]...]": the first ] is part of the set
				j = strings.IndexByte(pattern[i+2:], ']') + 1
			}
			set := pattern[i+1 : i+1+j]
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(set, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return regexp.MustCompile(`^` + regexp.QuoteMeta(pattern) + `$`)
	}
	return re
}

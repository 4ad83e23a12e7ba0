package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// targetCases returns the cases of target tg (at src): the harness play for a role-shaped
// target, else the cases of its runme.sh with the number of its ansible-playbook lines that
// are none.
func targetCases(src string, tg ansibleTarget) ([]targetCase, int, error) {
	if _, err := os.Stat(filepath.Join(src, "tasks", "main.yml")); err == nil {
		play, err := harnessPlaybook(src, tg)
		if err != nil {
			return nil, 0, err
		}
		return []targetCase{{Name: "main", Playbook: "harness.yml", Args: []string{"-i", "../../inventory"}, harness: play}}, 0, nil
	}
	script, err := os.ReadFile(filepath.Join(src, "runme.sh"))
	if err != nil {
		return nil, 0, fmt.Errorf("target %s has neither tasks/main.yml nor runme.sh: %w", tg.name, err)
	}
	cases, skipped := runmeCases(string(script))
	if len(cases) == 0 {
		return nil, 0, fmt.Errorf("%s/runme.sh: no plain ansible-playbook line", src)
	}
	return cases, skipped, nil
}

// harnessPlaybook is the play that runs a role-shaped target's tasks/main.yml (with its
// defaults, vars and handlers) on testhost; @TMP@ stands for the case's fresh directory and
// @DIR@ for the copy of the target, the role_path its tasks would see as a role.
func harnessPlaybook(dir string, tg ansibleTarget) (string, error) {
	vars := map[string]any{"remote_tmp_dir": "@TMP@", "output_dir": "@TMP@", "role_path": "@DIR@"}
	maps.Copy(vars, tg.vars)
	data, err := json.Marshal(vars) // JSON is YAML
	if err != nil {
		return "", fmt.Errorf("vars of target %s: %w", tg.name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "- hosts: testhost\n  gather_facts: %t\n  vars: %s\n", !tg.noFacts, data)
	var files []string
	for _, f := range []string{"defaults/main.yml", "vars/main.yml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		fmt.Fprintf(&b, "  vars_files: [%s]\n", strings.Join(files, ", "))
	}
	b.WriteString("  tasks:\n    - import_tasks: tasks/main.yml\n")
	if _, err := os.Stat(filepath.Join(dir, "handlers", "main.yml")); err == nil {
		b.WriteString("  handlers:\n    - import_tasks: handlers/main.yml\n")
	}
	return b.String(), nil
}

// runmeCases returns a case for each line of a runme.sh that is a plain ansible-playbook
// command, optionally after variable assignments (kept as the case's environment, with those
// of earlier export lines), or such a command piped to tee, and counts the other lines that
// run ansible-playbook: in a pipe, a test, a loop over a variable, with a redirection. "$@" is dropped and ${OUTPUT_DIR}
// becomes the case's fresh directory.
func runmeCases(script string) (cases []targetCase, skipped int) {
	var exported []string
	for _, line := range strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n") {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "export "); ok {
			if words, ok := shellWords(rest); ok && len(words) == 1 && isAssignment(words[0]) {
				exported = append(exported, words[0])
			}
			continue
		}
		if !strings.Contains(line, "ansible-playbook") || strings.HasPrefix(line, "#") {
			continue
		}
		c, ok := runmeCase(line)
		if !ok {
			skipped++
			continue
		}
		c.Name = fmt.Sprintf("%02d_%s", len(cases)+1, strings.TrimSuffix(filepath.Base(c.Playbook), filepath.Ext(c.Playbook)))
		c.Env = append(slices.Clone(exported), c.Env...)
		cases = append(cases, c)
	}
	return cases, skipped
}

// teeOutput matches the end of a line that copies the run's output to a file for later greps:
// the run itself is a case (the greps are not).
var teeOutput = regexp.MustCompile(`\s*(2>&1\s*)?\|\s*tee\s+[\w.-]+$`)

// runmeCase maps one runme.sh line to a case, or says it cannot.
func runmeCase(line string) (targetCase, bool) {
	words, ok := shellWords(teeOutput.ReplaceAllString(line, ""))
	if !ok {
		return targetCase{}, false
	}
	var c targetCase
	i := 0
	for ; i < len(words) && isAssignment(words[i]); i++ {
		c.Env = append(c.Env, words[i])
	}
	if i == len(words) || words[i] != "ansible-playbook" {
		return targetCase{}, false
	}
	valued := false // the previous word is an option that takes the next as its value
	for _, w := range words[i+1:] {
		switch {
		case w == `"$@"`:
		case !valued && c.Playbook == "" && !strings.HasPrefix(w, "-") && (strings.HasSuffix(w, ".yml") || strings.HasSuffix(w, ".yaml")):
			c.Playbook = w
		default:
			c.Args = append(c.Args, w)
			valued = slices.Contains([]string{"-i", "-e", "-c", "-l", "-t", "--tags", "--skip-tags", "--limit", "--extra-vars", "--inventory"}, w)
			continue
		}
		valued = false
	}
	return c, c.Playbook != ""
}

// isAssignment says whether a shell word is NAME=value.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	return ok && name != "" && strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == ""
}

// shellWords splits a simple shell command line into words, removing quotes; "$@" is kept as
// the word `"$@"` and ${OUTPUT_DIR} becomes @TMP@. It refuses (false) any other expansion and
// every operator: pipes, redirections, lists, subshells, tests.
func shellWords(line string) ([]string, bool) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case strings.HasPrefix(line[i:], `"$@"`):
			w.WriteString(`"$@"`)
			i += 3
		case strings.HasPrefix(line[i:], "${OUTPUT_DIR}"):
			w.WriteString("@TMP@")
			i += len("${OUTPUT_DIR}") - 1
		case ch == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
		case ch == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				return nil, false
			}
			inner := line[i+1 : i+1+j]
			if strings.ContainsAny(inner, "$`\\") {
				inner = strings.ReplaceAll(inner, "${OUTPUT_DIR}", "@TMP@")
				if strings.ContainsAny(inner, "$`\\") {
					return nil, false
				}
			}
			w.WriteString(inner)
			i += j + 1
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
			}
			inWord = false
			continue
		case strings.IndexByte("|&;<>()[]`$\\#", ch) >= 0:
			return nil, false
		default:
			w.WriteByte(ch)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, true
}

func TestRunmeCasesMapsPlainAnsiblePlaybookLines(t *testing.T) {
	script := `#!/usr/bin/env bash
set -eux
export ANSIBLE_ROLES_PATH=./roles
ansible -m include_role -a name=role1 localhost
ANSIBLE_STRATEGY='free' ansible-playbook tasks/test.yml -i inventory "$@" --tags a,b
ansible-playbook -i ../../inventory run.yml -e "output_dir=${OUTPUT_DIR}" -b "$@"
ansible-playbook unvault.yml --vault-password-file='secret' -v "$@"
ansible-playbook -v x.yml 2>&1 | tee x.out
ansible-playbook -v y.yml 2>&1 | grep y
[ "$(ansible-playbook a.yml -i inv "$@" | grep -c A)" = "1" ]
for seed in a b; do
	ansible-playbook find/play.yml -e "seed='${seed}'" "$@"
done
ansible-playbook -i "${INVENTORY_PATH}" cleanup.yml
# ansible-playbook commented.yml
ansible-playbook test_var_precedence.yml -i inventory -v "$@" \
    -e 'extra_var=extra_var'
`
	cases, skipped := runmeCases(script)
	want := []targetCase{
		{Name: "01_test", Playbook: "tasks/test.yml", Args: []string{"-i", "inventory", "--tags", "a,b"}, Env: []string{"ANSIBLE_ROLES_PATH=./roles", "ANSIBLE_STRATEGY=free"}},
		{Name: "02_run", Playbook: "run.yml", Args: []string{"-i", "../../inventory", "-e", "output_dir=@TMP@", "-b"}, Env: []string{"ANSIBLE_ROLES_PATH=./roles"}},
		{Name: "03_unvault", Playbook: "unvault.yml", Args: []string{"--vault-password-file=secret", "-v"}, Env: []string{"ANSIBLE_ROLES_PATH=./roles"}},
		{Name: "04_x", Playbook: "x.yml", Args: []string{"-v"}, Env: []string{"ANSIBLE_ROLES_PATH=./roles"}},
		{Name: "05_test_var_precedence", Playbook: "test_var_precedence.yml", Args: []string{"-i", "inventory", "-v", "-e", "extra_var=extra_var"}, Env: []string{"ANSIBLE_ROLES_PATH=./roles"}},
	}
	if fmt.Sprint(cases) != fmt.Sprint(want) {
		t.Errorf("cases:\n%v\nwant\n%v", cases, want)
	}
	if skipped != 4 {
		t.Errorf("skipped %d lines, want 4 (pipe, test, loop variable, other variable)", skipped)
	}
}

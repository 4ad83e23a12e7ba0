package main

import (
	"strings"
	"testing"
)

// TestVerbose2PrintsMetaLines runs meta playbooks at -vv and at the default verbosity under
// ansible-playbook and tally: the "META: ..." lines Ansible's strategy prints at -vv (what each
// meta task did, or why it was skipped), in order and with the task banners around them, must
// be the same, and absent without -vv.
func TestVerbose2PrintsMetaLines(t *testing.T) {
	ansible, tally := ansiblePlaybook(t), tallyBinary(t)
	setup := compatSetup{inventory: "inventory.ini"}
	// The banners and META lines; one host at a time, so that both print in the same order.
	metaLines := func(out string) string {
		var keep []string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "META: ") || strings.HasPrefix(l, "TASK [") || strings.HasPrefix(l, "RUNNING HANDLER [") || strings.HasPrefix(l, "PLAY [") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	for _, name := range []string{"meta_tasks.yml", "end_play.yml"} {
		for _, v := range []string{"-vv", "-v"} {
			args := []string{v, "-f", "1"}
			ref := runPlaybook(t, setup, []string{ansible}, args, name)
			got := runPlaybook(t, setup, []string{tally, "run"}, args, name)
			want, have := metaLines(ref.stdout), metaLines(got.stdout)
			if strings.Contains(want, "META: ") != (v == "-vv") {
				t.Fatalf("ansible-playbook %s on %s: META lines where not expected, or none:\n%s", v, name, want)
			}
			if want != have {
				t.Errorf("tally run %s on %s prints other META lines than ansible-playbook:\n%s", v, name, firstDiff(want, have))
			}
		}
	}
}

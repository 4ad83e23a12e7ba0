package executor

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/inventory"
	"github.com/tallyrun/tally/host/playbook"
)

// TestHostVarsOfATaskDoNotGrowWithTheInventory pins that while a task runs, a host's variables
// share the magic variables every host sees alike (hostvars, ansible_play_hosts and the like)
// instead of building them again: with 1,000 hosts, building them for each host of each task
// made the run's memory and time grow with the square of the hosts.
func TestHostVarsOfATaskDoNotGrowWithTheInventory(t *testing.T) {
	allocs := func(n int) float64 {
		var ini strings.Builder
		for i := range n {
			fmt.Fprintf(&ini, "h%04d\n", i)
		}
		path := filepath.Join(t.TempDir(), "hosts.ini")
		if err := os.WriteFile(path, []byte(ini.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		inv, err := inventory.Load([]string{path})
		if err != nil {
			t.Fatal(err)
		}
		hosts := inv.Hosts()
		r := &playRun{x: New(Config{Inventory: inv}), play: &playbook.Play{Name: "p"}, allHosts: hosts, batch: hosts,
			ended: map[string]bool{}, halted: map[string]bool{}}
		r.shared = r.sharedMagic()
		if got := len(r.hostVars(hosts[0], nil)["ansible_play_hosts"].([]any)); got != n {
			t.Fatalf("ansible_play_hosts has %d hosts, want %d", got, n)
		}
		return testing.AllocsPerRun(10, func() { r.hostVars(hosts[1], nil) })
	}
	if few, many := allocs(10), allocs(1000); few != many {
		t.Errorf("a host's variables take %v allocations with 10 hosts, %v with 1,000: want as many", few, many)
	}
}

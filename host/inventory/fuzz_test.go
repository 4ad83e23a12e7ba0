package inventory

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzLoad loads data written to a file called name and, if it parses, exercises the
// accessors; the only requirement is not to panic (nor hang).
func fuzzLoad(t *testing.T, name string, data []byte) {
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	inv, err := Load([]string{file})
	if err != nil {
		return
	}
	for _, pattern := range []string{"all", "*", "localhost", "g*:&web:!db", "~.*[0]", "all[-1]"} {
		hosts, err := inv.Select(pattern)
		if err != nil {
			continue
		}
		for _, h := range hosts {
			_ = inv.HostVars(h)
			_ = h.GroupNames()
		}
	}
	_ = inv.GroupsVar()
}

// fuzzSeeds adds the fixtures with the given extension and a few snippets as seeds.
func fuzzSeeds(f *testing.F, glob string, snippets ...string) {
	files, err := filepath.Glob(glob)
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range snippets {
		f.Add([]byte(s))
	}
}

// lowRangeCap keeps fuzzed ranges small so that each input runs fast.
func lowRangeCap(f *testing.F) {
	saved := maxRangeHosts
	maxRangeHosts = 1000
	f.Cleanup(func() { maxRangeHosts = saved })
}

func FuzzLoadINI(f *testing.F) {
	lowRangeCap(f)
	fuzzSeeds(f, "testdata/*.ini",
		"[a:children]\nb\n[b:children]\nc\n[c]\nh[1:3]:22 x=(1,{2:[3]})\n[a:vars]\nansible_group_priority=3\n",
		"[g:vars]\nx=1\n[p:children]\ng\n",
		"h[a:z:3]-[01:10] k='v w' j=\"q\\\"r\" #c\n[ungrouped]\nlocalhost\n",
		"[x]\n[::1]:22 y={1,(2,3)} z=b'\\xff'\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, "inventory.ini", data) })
}

func FuzzLoadYAML(f *testing.F) {
	lowRangeCap(f)
	fuzzSeeds(f, "testdata/*.yml",
		"a: &a\n  hosts:\n    h[1:2]:\n      <<: {x: 1}\nb: *a\nc:\n  children:\n    a:\n    b:\n",
		"{\"g\": {\"hosts\": {\"h1\": {\"v\": 1e3}}, \"vars\": {\"ansible_group_priority\": \"2\"}}}",
		"g:\n  hosts: h1\n  vars:\n    d: 2001-12-14 21:59:43.10 -5\n    o: !!omap [{a: 1}]\n",
		"x: &x [*x]\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzLoad(t, "inventory.yml", data) })
}

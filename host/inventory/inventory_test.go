package inventory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The expected values in these tests were produced by ansible-core 2.14 on the same
// fixtures: ansible-inventory -i FILE --list and ansible -i FILE PATTERN --list-hosts.

func load(t *testing.T, sources ...string) *Inventory {
	t.Helper()
	inv, err := Load(sources)
	if err != nil {
		t.Fatalf("Load(%v): %v", sources, err)
	}
	return inv
}

func names(hosts []*Host) []string {
	out := []string{}
	for _, h := range hosts {
		out = append(out, h.Name)
	}
	return out
}

func groupNames(groups []*Group) []string {
	out := []string{}
	for _, g := range groups {
		out = append(out, g.Name)
	}
	return out
}

// withoutSource drops the variables naming the inventory file, which differ between two
// fixtures otherwise alike.
func withoutSource(vars map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range vars {
		if k != "inventory_file" && k != "inventory_dir" {
			out[k] = v
		}
	}
	return out
}

var basicFormats = []string{"testdata/basic.ini", "testdata/basic.yml"}

func TestINIAndYAMLVersionsOfAnInventoryAreEqual(t *testing.T) {
	ini, yml := load(t, basicFormats[0]), load(t, basicFormats[1])
	if got, want := names(yml.Hosts()), names(ini.Hosts()); !reflect.DeepEqual(got, want) {
		t.Errorf("hosts: yaml %v, ini %v", got, want)
	}
	if got, want := groupNames(yml.Groups()), groupNames(ini.Groups()); !reflect.DeepEqual(got, want) {
		t.Errorf("groups: yaml %v, ini %v", got, want)
	}
	for _, g := range ini.Groups() {
		y := yml.Group(g.Name)
		if !reflect.DeepEqual(names(y.Hosts()), names(g.Hosts())) || !reflect.DeepEqual(groupNames(y.Children()), groupNames(g.Children())) ||
			y.Depth != g.Depth || y.Priority != g.Priority || !reflect.DeepEqual(y.Vars, g.Vars) {
			t.Errorf("group %s differs: yaml %+v, ini %+v", g.Name, *y, *g)
		}
	}
	for _, h := range ini.Hosts() {
		if got, want := withoutSource(yml.HostVars(yml.Host(h.Name))), withoutSource(ini.HostVars(h)); !reflect.DeepEqual(got, want) {
			t.Errorf("HostVars(%s): yaml %v, ini %v", h.Name, got, want)
		}
	}
}

func TestBasicInventoryMatchesAnsible(t *testing.T) {
	wantHosts := []string{"bastion", "web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c",
		"db1", "db2", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2"}
	wantChildren := map[string][]string{"all": {"ungrouped", "prod", "stage"}, "app": {"web", "db"}, "prod": {"app"}}
	wantMembers := map[string][]string{
		"ungrouped": {"bastion"},
		"web":       {"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c"},
		"db":        {"db1", "db2", "web01.example.com"},
		"stage":     {"stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2"},
	}
	wantVars := map[string]map[string]any{
		// web and db have the same depth: web wins by name; all is overridden by app.
		"web01.example.com": {"color": "green", "debug": false, "env": "prod", "http_port": 8080, "max_conn": 100,
			"ntp": "pool.ntp.org", "ports": []any{80, 443}, "tier": "app"},
		"db2":     {"ansible_port": 5433, "color": "green", "debug": false, "env": "prod", "max_conn": 100, "ntp": "pool.ntp.org", "ports": []any{80, 443}, "tier": "app"},
		"bastion": {"ansible_host": "203.0.113.10", "ansible_port": 2222, "color": "blue", "ntp": "pool.ntp.org"},
		"web-b":   {"ansible_user": "deploy", "color": "green", "debug": false, "env": "prod", "max_conn": 100, "ntp": "pool.ntp.org", "ports": []any{80, 443}, "tier": "app"},
	}
	wantGroupNames := map[string][]string{
		"web01.example.com": {"app", "db", "prod", "web"},
		"bastion":           {"ungrouped"},
		"stage5":            {"stage"},
	}
	for _, file := range basicFormats {
		t.Run(filepath.Base(file), func(t *testing.T) {
			inv := load(t, file)
			if got := names(inv.Hosts()); !reflect.DeepEqual(got, wantHosts) {
				t.Errorf("Hosts() = %v, want %v", got, wantHosts)
			}
			for g, want := range wantChildren {
				if got := groupNames(inv.Group(g).Children()); !reflect.DeepEqual(got, want) {
					t.Errorf("%s children = %v, want %v", g, got, want)
				}
			}
			for g, want := range wantMembers {
				if got := names(inv.Group(g).Hosts()); !reflect.DeepEqual(got, want) {
					t.Errorf("%s hosts = %v, want %v", g, got, want)
				}
			}
			for name, want := range wantVars {
				got := inv.HostVars(inv.Host(name))
				for _, magic := range []string{"inventory_file", "inventory_dir", "inventory_hostname", "inventory_hostname_short", "group_names"} {
					delete(got, magic)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("HostVars(%s) = %v, want %v", name, got, want)
				}
			}
			for name, want := range wantGroupNames {
				if got := inv.Host(name).GroupNames(); !reflect.DeepEqual(got, want) {
					t.Errorf("GroupNames(%s) = %v, want %v", name, got, want)
				}
			}
			if g := inv.Group("prod"); g.Priority != 5 || g.Vars["ansible_group_priority"] != nil {
				t.Errorf("prod priority = %d, vars %v: want 5 and no ansible_group_priority var", g.Priority, g.Vars)
			}
			if got := [3]int{inv.Group("prod").Depth, inv.Group("app").Depth, inv.Group("web").Depth}; got != [3]int{1, 2, 3} {
				t.Errorf("depths of prod, app, web = %v, want [1 2 3]", got)
			}
		})
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestGroupVarPrecedence(t *testing.T) {
	// Each value of x is what ansible -m debug prints for h.
	tests := []struct {
		name, inventory string
		want            any
	}{
		{"same depth: later name wins", "[a]\nh\n[b]\nh\n[a:vars]\nx=a\n[b:vars]\nx=b\n", "b"},
		{"same depth: higher priority wins", "[a]\nh\n[b]\nh\n[a:vars]\nx=a\nansible_group_priority=10\n[b:vars]\nx=b\n", "a"},
		{"child beats parent whatever its priority", "[p:children]\nc\n[c]\nh\n[p:vars]\nx=p\nansible_group_priority=100\n[c:vars]\nx=c\n", "c"},
		{"host beats groups and all", "[g]\nh x=host\n[g:vars]\nx=g\n[all:vars]\nx=all\n", "host"},
		{"deeper beats shallower", "[deep:children]\nmid\n[mid:children]\nleaf\n[leaf]\nh\n[other]\nh\n[other:vars]\nx=other\n[deep:vars]\nx=deep\n[mid:vars]\nx=mid\n", "mid"},
		{"all is the weakest", "[g]\nh\n[all:vars]\nx=all\n[g:vars]\nx=g\n", "g"},
	}
	for _, tt := range tests {
		inv := load(t, writeFile(t, "hosts.ini", tt.inventory))
		if got := inv.HostVars(inv.Host("h"))["x"]; got != tt.want {
			t.Errorf("%s: x = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLoadWarnings(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"hosts.yml", "g:\n  hosts:\n    h1:\n  host:\n    h2:\n", "Skipping unexpected key (host) in group (g)"},
		{"hosts.yml", "g:\n  hosts:\n    h1:\n  other: text\n", "Skipping key (other) in group (g) as it is not a mapping"},
		{"hosts.yml", "g: [h1]\nh:\n  hosts:\n    h1:\n", "Skipping 'g' as this is not a valid group definition"},
		{"hosts.yml", "g:\n  hosts:\n    h1: {x: 1, x: 2}\n", "found a duplicate dict key (x)"},
		{"hosts.ini", "[web-servers]\nh1\n", "Invalid characters were found in group names"},
		{"hosts.ini", "[g]\ng\n", "Found both group and host with same name: g"},
		{"hosts.ini", "[g]\nlocalhost\n127.0.0.1\n", "A duplicate localhost-like entry was found (127.0.0.1)"},
	}
	for _, tt := range tests {
		var warnings []string
		_, err := LoadWith([]string{writeFile(t, tt.name, tt.content)}, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
		if err != nil {
			t.Errorf("%q: %v", tt.content, err)
			continue
		}
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, tt.want) }) {
			t.Errorf("%q: warnings %q, want one with %q", tt.content, warnings, tt.want)
		}
	}
}

func TestLoadMissingSourceWarnsAndGoesOn(t *testing.T) {
	var warnings []string
	missing := filepath.Join(t.TempDir(), "no_such.ini")
	inv, err := LoadWith([]string{missing, "testdata/basic.ini"}, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	if err != nil {
		t.Fatalf("a missing source is not an error in Ansible: %v", err)
	}
	want := "Unable to parse " + missing + " as an inventory source"
	if !slices.Contains(warnings, want) {
		t.Errorf("warnings %q, want %q", warnings, want)
	}
	if len(inv.Hosts()) == 0 {
		t.Error("the other source's hosts are missing")
	}
	if _, err := LoadWith([]string{missing}, Options{}); err != nil {
		t.Errorf("only a missing source: %v, want the implicit localhost alone", err)
	}
}

func TestHostMagicVars(t *testing.T) {
	inv := load(t, "testdata/basic.ini")
	abs, _ := filepath.Abs("testdata/basic.ini")
	tests := []struct {
		host, short string
	}{
		{"web01.example.com", "web01"},
		{"10.0.0.1", "10.0.0.1"},
		{"bastion", "bastion"},
	}
	for _, tt := range tests {
		vars := inv.HostVars(inv.Host(tt.host))
		if vars["inventory_hostname"] != tt.host || vars["inventory_hostname_short"] != tt.short ||
			vars["inventory_file"] != abs || vars["inventory_dir"] != filepath.Dir(abs) {
			t.Errorf("HostVars(%s) magic vars = %v %v %v %v", tt.host, vars["inventory_hostname"], vars["inventory_hostname_short"],
				vars["inventory_file"], vars["inventory_dir"])
		}
	}
}

func TestSelectMatchesAnsibleListHosts(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
	}{
		{"all", []string{"bastion", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "web01.example.com", "web02.example.com",
			"web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"}},
		{"*", []string{"bastion", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "web01.example.com", "web02.example.com",
			"web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"}},
		{"web", []string{"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c"}},
		{"web:&db", []string{"web01.example.com"}},
		{"app:!web", []string{"db1", "db2"}},
		{"!web", []string{"bastion", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "db1", "db2"}},
		{"db,web", []string{"db1", "db2", "web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c"}},
		{"web*", []string{"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c"}},
		{"*.example.com", []string{"web01.example.com", "web02.example.com", "web03.example.com"}},
		{"web0[!1]*", []string{"web02.example.com", "web03.example.com"}},
		{"~web0[12]", []string{"web01.example.com", "web02.example.com"}},
		{"app[0]", []string{"web01.example.com"}},
		{"app[1:3]", []string{"web02.example.com", "web03.example.com", "web-a"}},
		{"app[-1]", []string{"db2"}},
		{"app[4:]", []string{"web-b", "web-c", "db1", "db2"}},
		{"stage,bastion", []string{"stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "bastion"}},
		{"prod:!db:&web-*", []string{"web-a", "web-b", "web-c"}},
		{"db2:db2", []string{"db2"}},
		{"nosuch", []string{}},
		{"nosuch:bastion", []string{"bastion"}},
		{"ungrouped", []string{"bastion"}},
		{"10.0.0.2", []string{"10.0.0.2"}},
		{"", []string{"bastion", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "web01.example.com", "web02.example.com",
			"web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"}},
	}
	for _, file := range basicFormats {
		inv := load(t, file)
		for _, tt := range tests {
			got, err := inv.Select(tt.pattern)
			if err != nil {
				t.Errorf("%s: Select(%q): %v", file, tt.pattern, err)
				continue
			}
			if !reflect.DeepEqual(names(got), tt.want) {
				t.Errorf("%s: Select(%q) = %v, want %v", file, tt.pattern, names(got), tt.want)
			}
		}
	}
}

func TestSelectErrors(t *testing.T) {
	inv := load(t, "testdata/basic.ini")
	for _, pattern := range []string{"web[9]", "~web(", "!", "web:&"} {
		if _, err := inv.Select(pattern); err == nil {
			t.Errorf("Select(%q): no error", pattern)
		}
	}
}

func TestSelectWarnsOnceForAPatternMatchingNothing(t *testing.T) {
	var warnings []string
	inv, err := LoadWith([]string{"testdata/basic.ini"}, Options{Warn: func(msg string) { warnings = append(warnings, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if hosts, err := inv.Select("nosuch:web[0]"); err != nil || len(hosts) != 1 {
			t.Fatalf("Select = %v, %v", names(hosts), err)
		}
	}
	want := []string{"Could not match supplied host pattern, ignoring: nosuch"}
	if !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

func TestLimitRestrictsSelect(t *testing.T) {
	limitFile := filepath.Join(t.TempDir(), "retry")
	if err := os.WriteFile(limitFile, []byte("web-a\ndb*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		limit, pattern string
		want           []string
	}{
		{"web:!web02.example.com", "app", []string{"web01.example.com", "web03.example.com", "web-a", "web-b", "web-c"}},
		{"web:!web02.example.com", "db", []string{"web01.example.com"}},
		{"stage[0]", "all", []string{"stage1"}},
		// db* matches the db group, web01.example.com included.
		{"@" + limitFile, "all", []string{"web01.example.com", "web-a", "db1", "db2"}},
		{"@" + limitFile + ",bastion", "ungrouped:web", []string{"bastion", "web01.example.com", "web-a"}},
		{"", "ungrouped", []string{"bastion"}},
	}
	for _, tt := range tests {
		inv := load(t, "testdata/basic.ini")
		if err := inv.Limit(tt.limit); err != nil {
			t.Fatalf("Limit(%q): %v", tt.limit, err)
		}
		got, err := inv.Select(tt.pattern)
		if err != nil || !reflect.DeepEqual(names(got), tt.want) {
			t.Errorf("Limit(%q) Select(%q) = %v, %v; want %v", tt.limit, tt.pattern, names(got), err, tt.want)
		}
	}
	inv := load(t, "testdata/basic.ini")
	for _, bad := range []string{"@" + filepath.Join(t.TempDir(), "missing"), "@" + t.TempDir()} {
		if err := inv.Limit(bad); err == nil {
			t.Errorf("Limit(%q): no error", bad)
		}
	}
}

func TestImplicitLocalhost(t *testing.T) {
	inv := load(t, "testdata/basic.ini")
	if all, _ := inv.Select("all"); slices.Contains(names(all), "localhost") {
		t.Errorf("all contains the implicit localhost")
	}
	got, err := inv.Select("localhost")
	if err != nil || len(got) != 1 || got[0].Name != "localhost" || !got[0].Implicit {
		t.Fatalf("Select(localhost) = %v, %v", got, err)
	}
	lh := got[0]
	// Once created, every localhost name gives the same host, as in Ansible.
	if again, _ := inv.Select("127.0.0.1"); len(again) != 1 || again[0] != lh || inv.Host("::1") != lh {
		t.Errorf("127.0.0.1 and ::1 do not give the implicit localhost")
	}
	vars := inv.HostVars(lh)
	if vars["ansible_connection"] != "local" || vars["color"] != "blue" || len(lh.GroupNames()) != 0 {
		t.Errorf("implicit localhost vars = %v, groups %v", vars, lh.GroupNames())
	}
	if inv.Host("nosuch") != nil {
		t.Errorf("Host(nosuch) is not nil")
	}
	if all, _ := inv.Select("all"); slices.Contains(names(all), "localhost") || inv.GroupsVar()["all"] == nil {
		t.Errorf("all contains the implicit localhost after it was created")
	}
}

// TestGroupByPutsTheImplicitLocalhostInItsGroupButNotInAll pins Ansible's add_dynamic_group on
// the implicit localhost: the group holds it (so a later play on the group runs on it) and its
// group_names name the group, while all still leaves it out (Group._get_hosts).
func TestGroupByPutsTheImplicitLocalhostInItsGroupButNotInAll(t *testing.T) {
	inv := load(t, "testdata/basic.ini")
	got, err := inv.Select("localhost")
	if err != nil || len(got) != 1 || !got[0].Implicit {
		t.Fatalf("Select(localhost) = %v, %v", got, err)
	}
	lh := got[0]
	if changed, err := inv.GroupBy(lh, "made", []string{"parent_made"}, false); !changed || err != nil {
		t.Fatalf("GroupBy = %v, %v; want a change", changed, err)
	}
	if in, err := inv.Select("made"); err != nil || !reflect.DeepEqual(names(in), []string{"localhost"}) {
		t.Errorf("Select(made) = %v, %v; want [localhost]", names(in), err)
	}
	if want := []string{"made", "parent_made"}; !reflect.DeepEqual(lh.GroupNames(), want) {
		t.Errorf("group_names = %v, want %v", lh.GroupNames(), want)
	}
	if all, _ := inv.Select("all"); slices.Contains(names(all), "localhost") || slices.Contains(inv.GroupsVar()["all"], "localhost") {
		t.Errorf("all contains the implicit localhost after group_by")
	}
	if g := inv.GroupsVar()["made"]; !reflect.DeepEqual(g, []string{"localhost"}) {
		t.Errorf("groups.made = %v, want [localhost]", g)
	}
}

func TestExplicitLocalhostStandsForAllLocalhostNames(t *testing.T) {
	inv := load(t, writeFile(t, "hosts", "[g]\nlocalhost x=1\nh1\n"))
	for _, p := range []string{"127.0.0.1", "::1", "localhost"} {
		got, err := inv.Select(p)
		if err != nil || !reflect.DeepEqual(names(got), []string{"localhost"}) || got[0].Implicit {
			t.Errorf("Select(%q) = %v, %v; want the inventory's localhost", p, names(got), err)
		}
	}
}

func TestHostPatternExpansion(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
		port    int
	}{
		{"web[1:3]", []string{"web1", "web2", "web3"}, -1},
		{"web[01:03].example.com", []string{"web01.example.com", "web02.example.com", "web03.example.com"}, -1},
		{"web[001:010:4]", []string{"web001", "web005", "web009"}, -1},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, -1},
		{"db-[a:e:2]", []string{"db-a", "db-c", "db-e"}, -1},
		{"n[:2]", []string{"n0", "n1", "n2"}, -1},
		{"r[1:2]-[a:b]", []string{"r1-a", "r1-b", "r2-a", "r2-b"}, -1},
		{"10.0.[0:1].[1:2]", []string{"10.0.0.1", "10.0.0.2", "10.0.1.1", "10.0.1.2"}, -1},
		{"web[3:1]", nil, -1},
		{"web[1:2]:2222", []string{"web1", "web2"}, 2222},
		{"host:22", []string{"host"}, 22},
		{"[::1]:22", []string{"::1"}, 22},
		{"fe80::1", []string{"fe80::1"}, -1},
		{"10.1.2.3:8022", []string{"10.1.2.3"}, 8022},
		// Not an address: taken whole, without a port.
		{"bad_:22", []string{"bad_:22"}, -1},
	}
	for _, tt := range tests {
		got, port, err := expandHostPattern(tt.pattern)
		if err != nil || !reflect.DeepEqual(got, tt.want) || port != tt.port {
			t.Errorf("expandHostPattern(%q) = %v, %d, %v; want %v, %d", tt.pattern, got, port, err, tt.want, tt.port)
		}
	}
	for _, bad := range []string{"web[01:3]", "web[a:3]", "web[c:a]", "web[1:5:0]", "web[1:2", "web[1]", "web[1:]", "web[0:99999999999]"} {
		if got, _, err := expandHostPattern(bad); err == nil {
			t.Errorf("expandHostPattern(%q) = %v, want an error", bad, got)
		}
	}
}

func TestHostListSource(t *testing.T) {
	inv := load(t, "h1, h2:2222,web[1:2],[::1]:22,")
	if got, want := names(inv.Hosts()), []string{"h1", "h2", "web[1:2]", "::1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	h2 := inv.HostVars(inv.Host("h2"))
	if h2["ansible_port"] != 2222 || h2["inventory_file"] != "h1, h2:2222,web[1:2],[::1]:22," || h2["inventory_dir"] != "None" {
		t.Errorf("h2 vars = %v", h2)
	}
	if got := inv.Host("h1").GroupNames(); !reflect.DeepEqual(got, []string{"ungrouped"}) {
		t.Errorf("h1 group_names = %v", got)
	}
}

func TestDirectoryInventoryWithVarsFiles(t *testing.T) {
	inv := load(t, "testdata/layered")
	// sub/more is read (web gets h5), broken.ini and README.md are not.
	if got, want := names(inv.Hosts()), []string{"h4", "h1", "h2", "h3", "h5"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("hosts = %v, want %v", got, want)
	}
	tests := []struct {
		host string
		want map[string]any
	}{
		// host_vars/h1.yaml beats the inventory's own host variable.
		{"h1", map[string]any{"big": 1000.0, "color": "h1_file", "from_inventory": "h1_file", "site": "group_vars_all", "tier": "app", "web_list": []any{"a", "b"}}},
		// host_vars/h2/ is a directory: b.yml is read after a.yml.
		{"h2", map[string]any{"big": 1000.0, "color": "h2_b", "http_port": 8080, "octal": 493, "on_call": true, "only_h2": true,
			"site": "group_vars_all", "tier": "app", "web_list": []any{"a", "b"}}},
		// group_vars/db (no extension) wins over db.yml, which is never read.
		{"h3", map[string]any{"color": "db_file", "db_role": "primary", "octal": 493, "on_call": true, "site": "group_vars_all", "tier": "app"}},
		// group_vars/all.yml beats the inventory's own group variables.
		{"h4", map[string]any{"color": "all_file", "site": "group_vars_all"}},
		// group_vars/web/: hidden, backup and .txt files are skipped.
		{"h5", map[string]any{"big": 1000.0, "color": "web_json", "site": "group_vars_all", "tier": "app", "web_list": []any{"a", "b"}}},
	}
	check := func(inv *Inventory, host string, want map[string]any) {
		t.Helper()
		got := inv.HostVars(inv.Host(host))
		for k := range got {
			if strings.HasPrefix(k, "inventory_") || k == "group_names" {
				delete(got, k)
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("HostVars(%s) = %v, want %v", host, got, want)
		}
	}
	for _, tt := range tests {
		check(inv, tt.host, tt.want)
	}
	if got := inv.Host("h2").Vars; got["color"] != "h2_b" || got["http_port"] != 8080 {
		t.Errorf("Host(h2).Vars = %v", got)
	}
	if got := inv.Group("web").Vars; got["color"] != "web_json" {
		t.Errorf("Group(web).Vars = %v", got)
	}
	if got := inv.HostVars(inv.Host("localhost")); got["local_file"] != true {
		t.Errorf("implicit localhost does not get host_vars/localhost.yml: %v", got)
	}

	// Vars next to the playbook override those next to the inventory, kind by kind
	// (ansible-playbook with testdata/play as the playbook directory).
	if err := inv.AddVarsDir("testdata/play"); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]any{ // color, site, only_h2
		"h1": {"h1_file", "play_all", nil},
		"h2": {"h2_b", "play_all", "play"},
		"h3": {"db_file", "play_all", nil},
		"h4": {"all_file", "play_all", nil},
		"h5": {"play_web", "play_all", nil},
	}
	for host, w := range want {
		v := inv.HostVars(inv.Host(host))
		if got := [3]any{v["color"], v["site"], v["only_h2"]}; got != w {
			t.Errorf("after AddVarsDir, %s color, site, only_h2 = %v, want %v", host, got, w)
		}
	}
}

func TestMultipleSourcesMerge(t *testing.T) {
	inv := load(t, "testdata/basic.yml", "testdata/layered/extra.yml", "extra1,extra2")
	if got := names(inv.Group("batch").Hosts()); !reflect.DeepEqual(got, []string{"h4"}) {
		t.Errorf("batch hosts = %v", got)
	}
	if got := inv.Host("extra1").GroupNames(); !reflect.DeepEqual(got, []string{"ungrouped"}) {
		t.Errorf("extra1 groups = %v", got)
	}
	if len(inv.Hosts()) != 17 {
		t.Errorf("%d hosts, want 17", len(inv.Hosts()))
	}
}

func TestValueTypes(t *testing.T) {
	tests := []struct {
		file, host string
		want       map[string]any
	}{
		{"testdata/values.ini", "h1", map[string]any{
			"int": 42, "neg": -7, "hex": 31, "under": 1000, "float": 1.5, "exp": 1000.0, "bool": true, "none": nil, "str": "quoted",
			"list": []any{1, "a"}, "dict": map[string]any{"k": []any{1, 2}}, "tuple": []any{1, 2},
			"g_int": 23, "g_false": false, "g_text": "green # a comment is part of the text", "g_list": []any{1, 2}, "g_str": "with spaces",
		}},
		{"testdata/values.ini", "h2", map[string]any{
			"text": "yes", "lead": "007", "ip": "10.0.0.1", "path": "/srv/app", "spaced": "two words", "empty": "", "eq": "a=b", "hash": "a",
			"g_int": 23, "g_false": false, "g_text": "green # a comment is part of the text", "g_list": []any{1, 2}, "g_str": "with spaces",
		}},
		// Timestamps are given as Python's str() of them, as a template shows them.
		{"testdata/values.yml", "y1", map[string]any{
			"yes_word": true, "off_word": false, "octal": 493, "sexagesimal": 90, "exp_no_dot": "1e3", "exp_dot": 1500.0,
			"date": "2001-12-14", "stamp": "2001-12-14 21:59:43.100000-05:00", "null_word": nil, "empty": nil, "quoted": "yes",
			"unsafe": "{{ not_templated }}", "str_tag": "123", "merged": map[string]any{"a": 1, "b": 3},
		}},
	}
	for _, tt := range tests {
		inv := load(t, tt.file)
		got := inv.HostVars(inv.Host(tt.host))
		for k := range got {
			if strings.HasPrefix(k, "inventory_") || k == "group_names" {
				delete(got, k)
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s %s: vars = %#v\nwant %#v", tt.file, tt.host, got, tt.want)
		}
	}
}

func TestINIValueIsAPythonLiteralOrText(t *testing.T) {
	// Expected values are Python's InventoryModule._parse_value.
	tests := []struct {
		in   string
		want any
	}{
		{"1", 1}, {"-1", -1}, {"--1", "--1"}, {"01", "01"}, {"00", 0}, {"0o17", 15}, {"0b101", 5}, {"1_000", 1000},
		{"1.", 1.0}, {".5", 0.5}, {"1e3", 1000.0}, {"1e", "1e"}, {"1j", "1j"}, {"1+2j", "(1+2j)"}, {"-0j", "(-0-0j)"}, {"1+2", "1+2"},
		{"(1)", 1}, {"-(1)", -1}, {"()", []any{}}, {"1,2", []any{1, 2}}, {"1,", []any{1}}, {"[1, 2,]", []any{1, 2}}, {"[1,,2]", "[1,,2]"},
		{"{}", map[string]any{}}, {"{1: 'a', True: 'b', 1.0: 'c'}", map[string]any{"1": "c"}}, {"{1, 2, 2}", []any{1, 2}},
		{"{(1, 2): 3}", map[string]any{"(1, 2)": 3}}, {"{('a', 1.0): 3}", map[string]any{"('a', 1.0)": 3}}, {"set()", []any{}}, {"set(1)", "set(1)"},
		{"True", true}, {"None", nil}, {"true", "true"}, {"...", "Ellipsis"},
		{"'a' \"b\"", "ab"}, {"'a' b'b'", "'a' b'b'"}, {"b'abc'", "abc"}, {`r'a\nb'`, `a\nb`}, {`'a\nb'`, "a\nb"},
		{`'\x41\101\u00e9'`, "AAé"}, {`'\N{DASH}'`, `'\N{DASH}'`}, {"f'abc'", "f'abc'"}, {"'abc", "'abc"}, {"'it''s'", "its"},
		{"1 # comment", 1}, {"green # comment", "green # comment"}, {"  sp ", "  sp "}, {" 1", 1}, {"1 2", "1 2"},
		{"{'a':1 'b':2}", "{'a':1 'b':2}"}, {`'\d'`, `\d`}, {"{x: 1}", "{x: 1}"},
	}
	for _, tt := range tests {
		got, err := iniValue(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("iniValue(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
	// Python raises TypeError there, which fails the inventory, unless a malformed node
	// comes first.
	for _, in := range []string{"{[1]: 2}", "{1, [2]}", "{(1, [2]): 3}", "{{}, x}"} {
		var te unhashableError
		if _, err := iniValue(in); !errors.As(err, &te) {
			t.Errorf("iniValue(%q) error = %v, want unhashable", in, err)
		}
	}
	if got, err := iniValue("{[1]: x}"); err != nil || got != "{[1]: x}" {
		t.Errorf(`iniValue("{[1]: x}") = %v, %v; want the text`, got, err)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name, content string
		line          int
		msg           string
	}{
		{"hosts.ini", "[web:foo]\nh1\n", 1, "section [web:foo] has unknown type: foo"},
		{"hosts.ini", "h0\n[web:vars]\nx=1\n", 2, "section [web:vars] not valid for undefined group: web"},
		{"hosts.ini", "[p:children]\nc\n", 2, "section [p:children] includes undefined group: c"},
		{"hosts.ini", "[g]\nh1\n\n[g:vars]\nx=1\n[p:children]\nc\n[g:children]\np\n[c]\n[q]\nweb[01:3]\n", 12, "equal-length begin and end"},
		{"hosts.ini", "[g]\nh1:\n", 2, "ending in ':' is not allowed"},
		{"hosts.ini", "h1 foo\n", 1, "expected key=value host variable assignment, got: foo"},
		{"hosts.ini", "\n\nh1 x='open\n", 3, "no closing quotation"},
		{"hosts.ini", "[a:children]\nb\n[b:children]\na\n", 4, "recursive dependency loop"},
		{"hosts.ini", "[g]\nh1\n[g:vars]\nansible_group_priority=high\n", 4, "ansible_group_priority"},
		{"hosts.ini", "[g]\nh1 x={[1]:2}\n", 2, "unhashable type: 'list'"},
		// Not a section: a host line whose name is a bad range.
		{"hosts.ini", "[web] extra\n", 1, "host range"},
		{"hosts.ini", "[we b]\n", 1, "invalid section entry"},
		{"hosts.ini", "---\n", 1, "'---' is normally a sign this is a YAML file"},
		{"hosts.yml", "web:\n  hosts:\n    h1:\n   x: 1\n", 4, "did not find expected key"},
		{"hosts.yml", "web:\n  hosts: [h1, h2]\n", 2, `invalid "hosts" entry for "web" group`},
		{"hosts.yml", "web:\n  hosts:\n    1:\n", 3, "must be a string"},
		{"hosts.yml", "web:\n  hosts:\n    h1: text\n", 3, "expected dictionary"},
		{"hosts.yml", "web:\n  children:\n    c: text\n", 3, "c is not a known host nor group"},
		{"hosts.yml", "web:\n  hosts:\n    h1:\n---\nx:\n", 4, "expected a single document"},
		{"hosts.yml", "plugin: constructed\n", 1, "inventory plugins"},
		{"hosts.yml", "a: &a [*a]\n", 1, "contains itself"},
		{"hosts.yml", "[]\n", 0, "parsed empty YAML file"},
		{"hosts.json", `{"web": {"hosts": ["h1"]}}`, 0, `invalid "hosts" entry`},
		// No extension: tried as YAML, then INI; the INI error is the one that tells.
		{"hosts", "[web]\nh1 x\n", 2, "expected key=value"},
		{"hosts", "#!/bin/sh\necho '{}'\n", 2, "tally does not run inventory scripts"},
	}
	for _, tt := range tests {
		file := writeFile(t, tt.name, tt.content)
		_, err := Load([]string{file})
		var pe *ParseError
		if !errors.As(err, &pe) || pe.File != file || pe.Line != tt.line || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%q: error %v; want %s:%d: ...%s...", tt.content, err, file, tt.line, tt.msg)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	badVars := filepath.Join(dir, "inv")
	for file, content := range map[string]string{"hosts": "[web]\nh1\n", "group_vars/web.yml": "color: red\n  bad: indent\n"} {
		path := filepath.Join(badVars, file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	listVars := filepath.Join(dir, "list")
	if err := os.MkdirAll(filepath.Join(listVars, "host_vars"), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(listVars, "hosts"), []byte("h1\n"), 0o644)
	_ = os.WriteFile(filepath.Join(listVars, "host_vars", "h1"), []byte("[1, 2]\n"), 0o644)
	tests := []struct {
		source, msg string
	}{
		{badVars, filepath.Join(badVars, "group_vars", "web.yml") + ":2:"},
		{listVars, "expected dicts but got a 'list'"},
	}
	for _, tt := range tests {
		if _, err := Load([]string{tt.source}); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Load(%s) error = %v, want %q", tt.source, err, tt.msg)
		}
	}
}

func TestHostileInputsFailFast(t *testing.T) {
	// "Billion laughs": 9^8 nodes once aliases are expanded.
	laughs := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i, c := range "bcdefgh" {
		refs := strings.TrimSuffix(strings.Repeat("*"+string("abcdefgh"[i])+", ", 9), ", ")
		laughs += fmt.Sprintf("%c: &%c [%s]\n", c, c, refs)
	}
	tests := []struct {
		name, content, msg string
	}{
		{"bomb.yml", laughs, "excessive aliasing"},
		{"hosts.yml", "g:\n  vars:\n    " + strings.ReplaceAll(strings.TrimSpace(laughs), "\n", "\n    ") + "\n", "excessive aliasing"},
		{"hosts.ini", "h[0:999999999]\n", "host range too large"},
		{"hosts.ini", "h[0:999][0:999][0:999][9:1]\n", "host range too large"},
		{"hosts.ini", "h" + strings.Repeat("[0:1]", 30) + "\n", "host range too large"},
	}
	for _, tt := range tests {
		_, err := Load([]string{writeFile(t, tt.name, tt.content)})
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.msg)
		}
	}
}

func TestGroupsVar(t *testing.T) {
	got := load(t, "testdata/basic.ini").GroupsVar()
	want := map[string][]string{
		"all": {"bastion", "stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2", "web01.example.com", "web02.example.com",
			"web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"},
		"ungrouped": {"bastion"},
		"web":       {"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c"},
		"db":        {"db1", "db2", "web01.example.com"},
		"app":       {"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"},
		"prod":      {"web01.example.com", "web02.example.com", "web03.example.com", "web-a", "web-b", "web-c", "db1", "db2"},
		"stage":     {"stage1", "stage5", "stage9", "10.0.0.1", "10.0.0.2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GroupsVar() = %v\nwant %v", got, want)
	}
}

func TestHostNamedLikeAGroupGivesItsVariablesToTheGroup(t *testing.T) {
	// Ansible sets a host variable by name, and a group of that name takes it.
	inv := load(t, writeFile(t, "hosts.yml", "g:\n  children:\n    c:\n  hosts:\n    c: {x: 1}\n    h: {x: 2}\n"))
	if inv.Group("c").Vars["x"] != 1 || inv.Host("c").Vars["x"] != nil || inv.HostVars(inv.Host("h"))["x"] != 2 {
		t.Errorf("group c vars %v, host c vars %v", inv.Group("c").Vars, inv.Host("c").Vars)
	}
}

func TestConcurrentUse(t *testing.T) {
	inv := load(t, "testdata/layered")
	if err := inv.Limit("all:!h4"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			patterns := []string{"web", "localhost", "127.0.0.1", "h*:!db", "app[0]"}
			for j := range 50 {
				hosts, err := inv.Select(patterns[(i+j)%len(patterns)])
				if err != nil {
					t.Error(err)
					return
				}
				for _, h := range hosts {
					_ = inv.HostVars(h)
				}
				_ = inv.Host("::1")
				_ = inv.GroupsVar()
			}
		}()
	}
	wg.Wait()
	if lh := inv.Host("localhost"); lh == nil || !lh.Implicit {
		t.Errorf("implicit localhost = %v", lh)
	}
}

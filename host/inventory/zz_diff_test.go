package inventory

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

type zzCase struct {
	Name     string   `json:"name"`
	Sources  []string `json:"sources"`
	Limit    string   `json:"limit"`
	Patterns []string `json:"patterns"`
	VarsDirs []string `json:"varsdirs"`
}

func TestZZDiff(t *testing.T) {
	data, err := os.ReadFile(os.Getenv("ZZCASES"))
	if err != nil {
		t.Skip()
	}
	var cases []zzCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		out := map[string]any{"name": c.Name}
		func() {
			inv, err := Load(c.Sources)
			if err != nil {
				out = map[string]any{"name": c.Name, "error": err.Error()}
				return
			}
			for _, d := range c.VarsDirs {
				if err := inv.AddVarsDir(d); err != nil {
					out = map[string]any{"name": c.Name, "error": err.Error()}
					return
				}
			}
			if c.Limit != "" {
				if err := inv.Limit(c.Limit); err != nil {
					out = map[string]any{"name": c.Name, "error": err.Error()}
					return
				}
			}
			pats := map[string]any{}
			for _, p := range c.Patterns {
				hs, err := inv.Select(p)
				if err != nil {
					pats[p] = "ERR"
					continue
				}
				names := []string{}
				for _, h := range hs {
					names = append(names, h.Name)
				}
				pats[p] = names
			}
			out["patterns"] = pats
			hosts := []string{}
			hv := map[string]any{}
			for _, h := range inv.Hosts() {
				hosts = append(hosts, h.Name)
				hv[h.Name] = inv.HostVars(h)
			}
			if inv.localhost != nil && inv.localhost.Implicit {
				hv[inv.localhost.Name] = inv.HostVars(inv.localhost)
			}
			out["hosts"] = hosts
			out["hostvars"] = hv
			groups := map[string]any{}
			for _, g := range inv.Groups() {
				hn, cn := []string{}, []string{}
				for _, h := range g.hosts {
					hn = append(hn, h.Name)
				}
				for _, c := range g.children {
					cn = append(cn, c.Name)
				}
				groups[g.Name] = map[string]any{"hosts": hn, "children": cn, "depth": g.Depth, "priority": g.Priority}
			}
			out["groups"] = groups
			out["groupsvar"] = inv.GroupsVar()
		}()
		b, err := json.Marshal(out)
		if err != nil {
			b, _ = json.Marshal(map[string]any{"name": c.Name, "error": "marshal: " + err.Error()})
		}
		fmt.Println(string(b))
	}
}

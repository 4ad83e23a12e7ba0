package main

import (
	"slices"
	"testing"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/playbook"
)

// TestRoleOptionsPrecedence pins the search order: the collections/ next to each playbook
// (once per directory), then the configuration's paths, else Ansible's defaults.
func TestRoleOptionsPrecedence(t *testing.T) {
	home := "/home/u"
	t.Setenv("HOME", home)
	cfg := &config.Config{RolesPath: []string{"/cfg/roles"}}
	tests := []struct {
		name      string
		playbooks []string
		cfg       *config.Config
		roles     []string
		colls     []string
	}{
		{"defaults", nil, &config.Config{}, playbook.DefaultRolesPath(home), playbook.DefaultCollectionsPath(home)},
		{"configuration", nil, cfg, []string{"/cfg/roles"}, playbook.DefaultCollectionsPath(home)},
		{"next to the playbooks", []string{"/p/a.yml", "/p/b.yml", "/q/c.yml"}, &config.Config{CollectionsPath: []string{"/cfg/colls"}},
			playbook.DefaultRolesPath(home), []string{"/p/collections", "/q/collections", "/cfg/colls"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := roleOptions(tt.cfg, tt.playbooks)
			if !slices.Equal(o.RolesPath, tt.roles) || !slices.Equal(o.CollectionsPath, tt.colls) {
				t.Errorf("roleOptions = %v, %v; want %v, %v", o.RolesPath, o.CollectionsPath, tt.roles, tt.colls)
			}
		})
	}
}

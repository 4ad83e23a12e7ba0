package main

import (
	"slices"
	"testing"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/playbook"
)

func TestRoleOptionsPrecedence(t *testing.T) {
	home := "/home/u"
	t.Setenv("HOME", home)
	cfg := &config.Config{RolesPath: []string{"/cfg/roles"}}
	tests := []struct {
		name  string
		env   map[string]string
		cfg   *config.Config
		roles []string
		colls []string
	}{
		{"defaults", nil, &config.Config{}, playbook.DefaultRolesPath(home), playbook.DefaultCollectionsPath(home)},
		{"configuration", nil, cfg, []string{"/cfg/roles"}, playbook.DefaultCollectionsPath(home)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := roleOptions(tt.cfg)
			if !slices.Equal(o.RolesPath, tt.roles) || !slices.Equal(o.CollectionsPath, tt.colls) {
				t.Errorf("roleOptions = %v, %v; want %v, %v", o.RolesPath, o.CollectionsPath, tt.roles, tt.colls)
			}
		})
	}
}

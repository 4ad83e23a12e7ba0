package main

import (
	"os"
	"path/filepath"
	"slices"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/playbook"
)

// roleOptions says where roles are searched: the collections/ directory next to each
// playbook (Ansible's playbook_paths, searched first), then the configuration's roles_path and
// collections_path (tally's file, then ANSIBLE_ROLES_PATH, ANSIBLE_COLLECTIONS_PATH and
// ansible.cfg: config.Read), else Ansible's defaults.
func roleOptions(cfg *config.Config, playbooks []string) playbook.Options {
	home, _ := os.UserHomeDir()
	opts := playbook.Options{RolesPath: cfg.RolesPath, CollectionsPath: cfg.CollectionsPath}
	if len(opts.RolesPath) == 0 {
		opts.RolesPath = playbook.DefaultRolesPath(home)
	}
	if len(opts.CollectionsPath) == 0 {
		opts.CollectionsPath = playbook.DefaultCollectionsPath(home)
	}
	var adjacent []string
	for _, p := range playbooks {
		if abs, err := filepath.Abs(p); err == nil {
			if dir := filepath.Join(filepath.Dir(abs), "collections"); !slices.Contains(adjacent, dir) {
				adjacent = append(adjacent, dir)
			}
		}
	}
	opts.CollectionsPath = append(adjacent, opts.CollectionsPath...)
	return opts
}

package main

import (
	"os"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/playbook"
)

// roleOptions says where roles are searched: the configuration's roles_path and
// collections_path (tally's file, then ANSIBLE_ROLES_PATH, ANSIBLE_COLLECTIONS_PATH and
// ansible.cfg: config.Read), else Ansible's defaults.
func roleOptions(cfg *config.Config) playbook.Options {
	home, _ := os.UserHomeDir()
	opts := playbook.Options{RolesPath: cfg.RolesPath, CollectionsPath: cfg.CollectionsPath}
	if len(opts.RolesPath) == 0 {
		opts.RolesPath = playbook.DefaultRolesPath(home)
	}
	if len(opts.CollectionsPath) == 0 {
		opts.CollectionsPath = playbook.DefaultCollectionsPath(home)
	}
	return opts
}

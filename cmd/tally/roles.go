package main

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/playbook"
)

// roleOptions says where roles are searched, each path from the first of: the environment
// variable Ansible reads (ANSIBLE_ROLES_PATH, ANSIBLE_COLLECTIONS_PATH), tally's configuration
// (roles_path, collections_path), Ansible's defaults. An ansible.cfg reader slots in between
// the configuration and the defaults (its roles_path and collections_path).
func roleOptions(cfg *config.Config, getenv func(string) string) playbook.Options {
	home, _ := os.UserHomeDir()
	pick := func(env string, configured, defaults []string) []string {
		if v := getenv(env); v != "" {
			var dirs []string
			for _, d := range filepath.SplitList(v) {
				if d = strings.TrimSpace(d); d != "" {
					if strings.HasPrefix(d, "~/") {
						d = filepath.Join(home, d[2:])
					}
					dirs = append(dirs, d)
				}
			}
			return dirs
		}
		if len(configured) > 0 {
			return configured
		}
		return defaults
	}
	return playbook.Options{
		RolesPath:       pick("ANSIBLE_ROLES_PATH", cfg.RolesPath, playbook.DefaultRolesPath(home)),
		CollectionsPath: pick("ANSIBLE_COLLECTIONS_PATH", cfg.CollectionsPath, playbook.DefaultCollectionsPath(home)),
	}
}

package bridge

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
)

// configuredCallbackPaths returns the callback plugin directories ansible-playbook would search
// without ANSIBLE_CALLBACK_PLUGINS: the ansible.cfg's callback_plugins, else Ansible's default.
// Setting the variable to add the bridge's directory replaces that setting, so the bridge puts
// it back after its own (ansible/config/manager.py's find_ini_config_file and base.yml's
// DEFAULT_CALLBACK_PLUGIN_PATH).
func configuredCallbackPaths(env []string) []string {
	getenv := func(name string) string {
		for i := len(env) - 1; i >= 0; i-- {
			if k, v, _ := strings.Cut(env[i], "="); k == name {
				return v
			}
		}
		return ""
	}
	home, _ := os.UserHomeDir()
	if p := ansibleCfg(getenv("ANSIBLE_CONFIG"), home); p != "" {
		if v, ok := iniValue(p, "defaults", "callback_plugins"); ok {
			var out []string
			for _, d := range filepath.SplitList(v) {
				out = append(out, resolvePath(d, filepath.Dir(p), home))
			}
			return out
		}
	}
	ansibleHome := getenv("ANSIBLE_HOME")
	if ansibleHome == "" {
		ansibleHome = filepath.Join(home, ".ansible")
	}
	return []string{filepath.Join(resolvePath(ansibleHome, "", home), "plugins", "callback"), "/usr/share/ansible/plugins/callback"}
}

// ansibleCfg finds the ansible.cfg Ansible reads: $ANSIBLE_CONFIG, ./ansible.cfg (unless the
// directory is world-writable), ~/.ansible.cfg, /etc/ansible/ansible.cfg.
func ansibleCfg(fromEnv, home string) string {
	var candidates []string
	if fromEnv != "" {
		if st, err := os.Stat(fromEnv); err == nil && st.IsDir() {
			fromEnv = filepath.Join(fromEnv, "ansible.cfg")
		}
		candidates = append(candidates, fromEnv)
	}
	if cwd, err := os.Getwd(); err == nil {
		if st, err := os.Stat(cwd); err == nil && st.Mode().Perm()&0o002 == 0 {
			candidates = append(candidates, filepath.Join(cwd, "ansible.cfg"))
		}
	}
	candidates = append(candidates, filepath.Join(home, ".ansible.cfg"), "/etc/ansible/ansible.cfg")
	for _, p := range candidates {
		if f, err := os.Open(p); err == nil {
			f.Close()
			return p
		}
	}
	return ""
}

// iniValue reads key in section of an INI file as Python's configparser does for a one-line
// value: "key = value" or "key: value", comments starting with # or ;.
func iniValue(path, section, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case line[0] == '[':
			in = strings.TrimSpace(strings.Trim(line, "[]")) == section
		case in:
			k, v, ok := strings.Cut(line, "=")
			if i := strings.IndexByte(line, ':'); i >= 0 && (!ok || i < len(k)) {
				k, v, ok = line[:i], line[i+1:], true
			}
			if ok && strings.TrimSpace(k) == key {
				return strings.TrimSpace(v), true
			}
		}
	}
	return "", false
}

// resolvePath expands ~ and makes p absolute against base, as Ansible's pathspec settings.
func resolvePath(p, base, home string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		p = filepath.Join(home, p[1:])
	}
	p = os.ExpandEnv(p)
	if !filepath.IsAbs(p) && base != "" {
		p = filepath.Join(base, p)
	}
	return p
}

package pluginhost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/sink"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

// DefaultPath is the search path when neither the configuration file, the environment nor the
// command line sets one.
var DefaultPath = []string{"~/.tally/plugins/callback", "/usr/share/tally/plugins/callback"}

// DefaultStdout is the stdout plugin when none is chosen.
const DefaultStdout = "default"

// DefaultLimits are a plugin's limits when the configuration sets none.
var DefaultLimits = config.Limits{Memory: 256 << 20, Timeout: 5 * time.Second, Output: 1 << 20}

// Flags are the command line's plugin settings; empty fields are unset.
type Flags struct {
	// CallbackPath is --callback-path: directories, each value colon-separated.
	CallbackPath []string
	// StdoutCallback is --stdout-callback.
	StdoutCallback string
	// Callbacks is --callbacks: plugin names, each value comma-separated.
	Callbacks []string
	// Options is --callback-opt: NAME.KEY=VALUE, repeated.
	Options []string
}

// Settings say which plugins a run uses and how. Resolve makes them from the command line,
// the environment, the configuration file and the defaults, in that order of precedence.
type Settings struct {
	// Path is the search path, earliest first.
	Path []string
	// Stdout names the stdout plugin.
	Stdout string
	// Enabled names the other plugins to run.
	Enabled []string
	// Flags and File are option values from the command line and the configuration file, by
	// plugin then option. Values from environment variables are read when a plugin is loaded,
	// because the plugin declares their names.
	Flags, File map[string]map[string]meta.Setting
	// Limits are every plugin's limits, and PluginLimits one plugin's, over them.
	Limits       config.Limits
	PluginLimits map[string]config.Limits
	// FailRun makes a plugin's failure fail the run (on_plugin_error: fail).
	FailRun bool
	// LogFile receives the plugins' log output instead of standard error, when set.
	LogFile string
	// CacheDir keeps compiled plugins between runs.
	CacheDir string
	// Getenv reads environment variables (os.Getenv outside tests).
	Getenv func(string) string
	// Sinks are the sinks that sink options may name, and SinkLimits bound what each plugin
	// appends to them in a run (DefaultSinkLimits fills what the configuration leaves unset).
	Sinks      map[string]config.Sink
	SinkLimits config.SinkLimits
}

// Resolve makes a run's plugin settings. Each playbook's callback_plugins directory is
// searched first, then --callback-path, else $TALLY_CALLBACK_PLUGINS, else the configuration
// file's callback_plugins, else DefaultPath.
func Resolve(cfg *config.Config, flags Flags, getenv func(string) string, playbooks []string) (Settings, error) {
	s := Settings{
		Stdout:       first(flags.StdoutCallback, getenv("TALLY_STDOUT_CALLBACK"), cfg.StdoutCallback, DefaultStdout),
		File:         map[string]map[string]meta.Setting{},
		Flags:        map[string]map[string]meta.Setting{},
		Limits:       mergeLimits(cfg.CallbackLimits, DefaultLimits),
		PluginLimits: map[string]config.Limits{},
		FailRun:      cfg.OnPluginError == "fail",
		LogFile:      cfg.CallbackLog,
		CacheDir:     cacheDir(getenv),
		Getenv:       getenv,
		Sinks:        sink.WithDefault(cfg.Sinks, getenv),
		SinkLimits:   mergeSinkLimits(cfg.SinkLimits, DefaultSinkLimits),
	}
	for _, pb := range playbooks {
		abs, err := filepath.Abs(pb)
		if err != nil {
			return s, fmt.Errorf("playbook %s: %w", pb, err)
		}
		s.Path = appendNew(s.Path, filepath.Join(filepath.Dir(abs), "callback_plugins"))
	}
	var dirs []string
	switch {
	case len(flags.CallbackPath) > 0:
		dirs = splitAll(flags.CallbackPath, ":")
	case getenv("TALLY_CALLBACK_PLUGINS") != "":
		dirs = splitAll([]string{getenv("TALLY_CALLBACK_PLUGINS")}, ":")
	case cfg.CallbackPlugins != nil:
		dirs = cfg.CallbackPlugins
	default:
		dirs = DefaultPath
	}
	for _, d := range dirs {
		abs, err := filepath.Abs(meta.ExpandHome(d))
		if err != nil {
			return s, fmt.Errorf("plugin directory %s: %w", d, err)
		}
		s.Path = appendNew(s.Path, abs)
	}
	switch {
	case len(flags.Callbacks) > 0:
		s.Enabled = splitAll(flags.Callbacks, ",")
	case getenv("TALLY_CALLBACKS_ENABLED") != "":
		s.Enabled = splitAll([]string{getenv("TALLY_CALLBACKS_ENABLED")}, ",")
	default:
		s.Enabled = cfg.CallbacksEnabled
	}
	for name, cb := range cfg.Callbacks {
		s.File[name] = cb.Options
		s.PluginLimits[name] = cb.Limits
	}
	for _, opt := range flags.Options {
		name, key, value, err := parseOption(opt)
		if err != nil {
			return s, err
		}
		if s.Flags[name] == nil {
			s.Flags[name] = map[string]meta.Setting{}
		}
		s.Flags[name][key] = meta.Setting{Value: value, Source: "--callback-opt " + opt}
	}
	return s, nil
}

// parseOption splits NAME.KEY=VALUE.
func parseOption(opt string) (name, key, value string, err error) {
	lhs, value, ok := strings.Cut(opt, "=")
	name, key, dot := strings.Cut(lhs, ".")
	if !ok || !dot || name == "" || key == "" {
		return "", "", "", fmt.Errorf("--callback-opt %q: want PLUGIN.OPTION=VALUE", opt)
	}
	return name, key, value, nil
}

// LimitsFor returns the limits of the plugin called name.
func (s *Settings) LimitsFor(name string) config.Limits {
	return mergeLimits(s.PluginLimits[name], s.Limits)
}

// mergeLimits fills the unset fields of l from d.
func mergeLimits(l, d config.Limits) config.Limits {
	if l.Memory == 0 {
		l.Memory = d.Memory
	}
	if l.Timeout == 0 {
		l.Timeout = d.Timeout
	}
	if l.Output == 0 {
		l.Output = d.Output
	}
	return l
}

// cacheDir is $XDG_CACHE_HOME/tally, ~/.cache/tally by default.
func cacheDir(getenv func(string) string) string {
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "tally")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "tally")
	}
	return ""
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// splitAll splits each value at sep and drops empty items.
func splitAll(values []string, sep string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, sep) {
			if item = strings.TrimSpace(item); item != "" {
				out = appendNew(out, item)
			}
		}
	}
	return out
}

// appendNew appends item unless list has it.
func appendNew(list []string, item string) []string {
	for _, have := range list {
		if have == item {
			return list
		}
	}
	return append(list, item)
}

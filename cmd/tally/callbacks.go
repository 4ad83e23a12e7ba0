package main

import (
	"context"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally/host/collector"
	"github.com/tallyrun/tally/host/config"
	"github.com/tallyrun/tally/host/display"
	"github.com/tallyrun/tally/host/pluginhost"
	"github.com/tallyrun/tally/pluginsdk/wire"
)

// addCallbackFlags declares the flags that choose and configure callback plugins.
func addCallbackFlags(fs *pflag.FlagSet, f *pluginhost.Flags) {
	fs.StringArrayVar(&f.CallbackPath, "callback-path", nil, "directories to search for callback plugins, colon-separated (repeatable; default: $TALLY_CALLBACK_PLUGINS, the configuration file's callback_plugins, else ~/.tally/plugins/callback:/usr/share/tally/plugins/callback)")
	fs.StringVar(&f.StdoutCallback, "stdout-callback", "", "the plugin that draws the run (default: $TALLY_STDOUT_CALLBACK, the configuration file's stdout_callback, else default)")
	fs.StringArrayVar(&f.Callbacks, "callbacks", nil, "other callback plugins to run, comma-separated (repeatable; default: $TALLY_CALLBACKS_ENABLED, else the configuration file's callbacks_enabled)")
	fs.StringArrayVar(&f.Options, "callback-opt", nil, "set a plugin's option: `PLUGIN.OPTION=VALUE` (repeatable)")
}

// pluginSettings resolves the plugin settings of a command: the flags, the environment, the
// configuration file cfg (config.Read), and the defaults, in that order.
func pluginSettings(cfg *config.Config, flags pluginhost.Flags, playbooks []string) (pluginhost.Settings, error) {
	return pluginhost.Resolve(cfg, flags, os.Getenv, playbooks)
}

// startCallbacks loads and configures the plugins of a run: the stdout plugin, or tally's
// built-in display in its place, and the enabled plugins. Hand the run's Callbacks to the
// collector; after it has finished, check the run's Err (an error wrapping
// pluginhost.ErrPluginFailed when on_plugin_error is fail and a plugin failed) and Close it.
// An error means the run must not start: a mistake in the settings or a plugin's options, or
// an enabled plugin that cannot be loaded when on_plugin_error is fail. The plugins are told
// line, the run's --limit, --tags and --skip-tags.
func startCallbacks(ctx context.Context, cfg *config.Config, flags pluginhost.Flags, playbooks []string, jobID string, line wire.CommandLine, disp display.Options, stdout, stderr io.Writer, warn func(string)) (*pluginhost.Run, error) {
	s, err := pluginSettings(cfg, flags, playbooks)
	if err != nil {
		return nil, err
	}
	return pluginhost.Start(ctx, s, pluginhost.Output{
		Terminal:    stdout,
		Log:         stderr,
		Warn:        warn,
		JobID:       jobID,
		Verbosity:   disp.Verbosity,
		Color:       disp.Color,
		CommandLine: line,
		Fallback:    func() collector.Callback { return display.New(stdout, disp) },
	})
}

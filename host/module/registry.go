package module

// The modules tally ships, with the flags the executor runs them by (docs/modules.md).
func init() {
	for name, s := range map[string]Spec{
		"setup":        {Run: runSetup},
		"ping":         {Run: runPing},
		"command":      {Run: runCommand, FreeForm: true},
		"shell":        {Run: runShell, FreeForm: true},
		"raw":          {Run: runRaw, FreeForm: true},
		"script":       {Run: runScript, FreeForm: true},
		"copy":         {Run: runCopy},
		"file":         {Run: runFile},
		"template":     {Run: runTemplate},
		"stat":         {Run: runStat},
		"lineinfile":   {Run: runLineinfile},
		"debug":        {Run: runDebug, Controller: true},
		"set_fact":     {Run: runSetFact, Controller: true},
		"set_stats":    {Run: runSetStats, Controller: true},
		"fail":         {Run: runFail, Controller: true},
		"assert":       {Run: runAssert, Controller: true},
		"wait_for":     {Run: runWaitFor},
		"pause":        {Run: runPause, Controller: true, RunOnce: true},
		"add_host":     {Run: runAddHost, Controller: true, RunOnce: true},
		"group_by":     {Run: runGroupBy, Controller: true},
		"async_status": {Run: runAsyncStatus},
	} {
		register(name, s)
	}
}

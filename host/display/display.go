// Package display draws a run as Ansible 2.14's stdout callbacks do, so that users coming from
// ansible-playbook read the output they know: Display as the default callback
// (plugins/callback/default.py, plus a first line naming the job), Minimal as the minimal one,
// JSON as ansible.posix.json. Display is also tally's built-in output when no stdout plugin
// can be loaded.
//
// The package depends on the standard library, the plugin SDK and internal/pytext only,
// because it is also compiled to WebAssembly as the bundled default, minimal and json plugins.
package display

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Options are the default callback's settings, named after Ansible's. The zero value hides ok
// and skipped results; DefaultOptions has Ansible's defaults.
type Options struct {
	// Verbosity is the number of -v flags: 1 shows results, 2 task paths and notified
	// handlers, 3 indented results with invocations.
	Verbosity int
	// DisplaySkippedHosts prints skipped results (display_skipped_hosts).
	DisplaySkippedHosts bool
	// DisplayOKHosts prints ok results (display_ok_hosts).
	DisplayOKHosts bool
	// ShowCustomStats prints set_stats data after the recap (show_custom_stats).
	ShowCustomStats bool
	// Color colours lines with ANSI escapes in Ansible's default colours.
	Color bool
}

// DefaultOptions returns Ansible's defaults: skipped and ok results shown, no custom stats, no
// colour, verbosity 0.
func DefaultOptions() Options {
	return Options{DisplaySkippedHosts: true, DisplayOKHosts: true}
}

// columns is Ansible's Display.columns when stdout is not a terminal: max(79, width-1).
const columns = 79

// censored replaces a no_log result (TaskResult.clean_copy).
const censored = "the output has been hidden due to the fact that 'no_log: true' was specified for this result"

// Display prints events to a writer. It is a collector callback; like all callbacks it is
// called from one goroutine.
type Display struct {
	w    io.Writer
	opts Options
	err  error // the first write error; output stops there

	jobShown bool
	// lastBanner is the UUID of the task whose banner was printed last: results of another
	// task print their task's banner again.
	lastBanner string
	// lastTaskName is the name of the task started last, which Ansible uses for every banner.
	lastTaskName    string
	hasLastTaskName bool
	// prefixes remembers "TASK" or "RUNNING HANDLER" by task UUID.
	prefixes map[string]string
	warned   map[string]bool
	// includes holds a task's include events until another event comes, so that hosts
	// including the same file print one line, as Ansible groups them.
	includes []include
}

// include is one host's include of a file; label is the loop item's, empty outside loops.
type include struct {
	file, host, label string
}

// New returns a Display writing to w.
func New(w io.Writer, opts Options) *Display {
	return &Display{w: w, opts: opts, prefixes: map[string]string{}, warned: map[string]bool{}}
}

// Name is the callback's name, Ansible's stdout callback name.
func (d *Display) Name() string { return "default" }

// Event prints one event. It returns the first error writing to the output.
func (d *Display) Event(e *event.Event) error {
	if !d.jobShown {
		d.jobShown = true
		if e.JobID != "" {
			d.display("JOB ["+e.JobID+"]", "")
		}
	}
	if e.Event != event.PlaybookOnInclude {
		d.flushIncludes()
	}
	data := &e.Data
	task := data.Task
	if task == nil {
		task = &event.Task{}
	}
	switch e.Event {
	case event.PlaybookOnStart:
		if d.opts.Verbosity > 1 {
			d.banner("PLAYBOOK: " + data.Playbook[strings.LastIndexByte(data.Playbook, '/')+1:])
		}
	case event.PlaybookOnPlayStart:
		d.playStart(data)
	case event.PlaybookOnNoHostsMatched:
		d.display("skipping: no hosts matched", colorSkip)
	case event.PlaybookOnNoHostsRemaining:
		d.banner("NO MORE HOSTS LEFT")
	case event.PlaybookOnTaskStart:
		d.taskStart(task, "TASK")
	case event.PlaybookOnHandlerTaskStart:
		d.taskStart(task, "RUNNING HANDLER")
	case event.PlaybookOnNotify:
		if d.opts.Verbosity > 1 {
			d.display(fmt.Sprintf("NOTIFIED HANDLER %s for %s", data.Handler, data.Host), colorVerbose)
		}
	case event.PlaybookOnInclude:
		in := include{file: data.Included, host: data.Host}
		if label := itemLabel(data.Result); pytext.Truthy(label) {
			in.label = pyStr(label)
		}
		d.includes = append(d.includes, in)
	case event.RunnerOnOK:
		r := newResult(data, task)
		d.fileDiff(r)
		d.runnerOK(r)
	case event.RunnerOnFailed:
		d.runnerFailed(newResult(data, task), data.IgnoreErrors)
	case event.RunnerOnSkipped:
		d.runnerSkipped(newResult(data, task))
	case event.RunnerOnUnreachable:
		d.runnerUnreachable(newResult(data, task), data.IgnoreUnreachable)
	case event.RunnerItemOnOK:
		r := newResult(data, task)
		d.fileDiff(r)
		d.itemOK(r)
	case event.RunnerItemOnFailed:
		d.itemFailed(newResult(data, task))
	case event.RunnerItemOnSkipped:
		d.itemSkipped(newResult(data, task))
	case event.RunnerRetry:
		d.retry(newResult(data, task))
	case event.RunnerVerbose:
		level := 3
		if v, ok := data.Result["verbosity"].(float64); ok { // events reach plugins as JSON
			level = int(v)
		} else if v, ok := data.Result["verbosity"].(int); ok {
			level = v
		}
		if msg, ok := data.Result["msg"].(string); ok && d.opts.Verbosity >= level {
			d.display(msg, colorVerbose)
		}
	case event.PlaybookOnStats:
		if data.Stats != nil {
			d.stats(data.Stats)
		}
	}
	return d.err
}

// Close prints what is still held back. It does not close the writer.
func (d *Display) Close() error {
	d.flushIncludes()
	return d.err
}

func (d *Display) playStart(data *event.Data) {
	// Play.get_name() falls back to the host pattern.
	name := pytext.Strip(data.Play)
	if name == "" {
		name = pytext.Strip(data.PlayPattern)
	}
	if name == "" {
		d.banner("PLAY")
		return
	}
	d.banner("PLAY [" + name + "]")
}

func (d *Display) taskStart(task *event.Task, prefix string) {
	d.prefixes[task.UUID] = prefix
	d.lastTaskName, d.hasLastTaskName = pytext.Strip(taskName(task)), true
	// With results filtered out, the banner waits for the first result shown.
	if d.opts.DisplaySkippedHosts && d.opts.DisplayOKHosts {
		d.printTaskBanner(task)
	}
}

// taskName is Task.get_name(): the action stands in for a missing name.
func taskName(task *event.Task) string {
	if task.Name != "" {
		return task.Name
	}
	return task.Action
}

func (d *Display) printTaskBanner(task *event.Task) {
	prefix, ok := d.prefixes[task.UUID]
	if !ok {
		prefix = "TASK"
	}
	name := d.lastTaskName
	if !d.hasLastTaskName {
		name = pytext.Strip(taskName(task))
	}
	d.banner(prefix + " [" + name + "]")
	if d.opts.Verbosity >= 2 && task.Path != "" {
		d.display("task path: "+task.Path, colorDebug)
	}
	d.lastBanner = task.UUID
}

func (d *Display) ensureBanner(task *event.Task) {
	if d.lastBanner != task.UUID {
		d.printTaskBanner(task)
	}
}

func (d *Display) runnerOK(r result) {
	if isIncludeAction(r.task.Action) {
		d.ensureBanner(r.task)
		return
	}
	msg, color := "ok: ["+r.label+"]", colorOK
	if pytext.Truthy(r.res["changed"]) {
		msg, color = "changed: ["+r.label+"]", colorChanged
	} else if !d.opts.DisplayOKHosts {
		return
	}
	d.ensureBanner(r.task)
	d.handleWarnings(r.res)
	// A loop's items have been shown one by one.
	if r.isLoop() {
		return
	}
	r.cleanDebug()
	if d.verbose(r.res, 0) {
		msg += " => " + d.dumpResult(r.res, 0)
	}
	d.display(msg, color)
}

func (d *Display) runnerFailed(r result, ignoreErrors bool) {
	r.cleanDebug()
	d.ensureBanner(r.task)
	d.handleException(r.res)
	d.handleWarnings(r.res)
	if !r.isLoop() {
		d.display("fatal: ["+r.label+"]: FAILED! => "+d.dumpResult(r.res, 0), colorError)
	}
	if ignoreErrors {
		d.display("...ignoring", colorSkip)
	}
}

func (d *Display) runnerSkipped(r result) {
	if !d.opts.DisplaySkippedHosts {
		return
	}
	r.cleanDebug()
	d.ensureBanner(r.task)
	if r.isLoop() {
		delete(r.res, "results")
	}
	msg := "skipping: [" + r.host + "]"
	if d.verbose(r.res, 0) {
		msg += " => " + d.dumpResult(r.res, 0)
	}
	d.display(msg, colorSkip)
}

// runnerUnreachable prints an unreachable host; ignore is the task's ignore_unreachable.
func (d *Display) runnerUnreachable(r result, ignore bool) {
	d.ensureBanner(r.task)
	d.display("fatal: ["+r.label+"]: UNREACHABLE! => "+d.dumpResult(r.res, 0), colorUnreachable)
	if ignore {
		d.display("...ignoring", colorSkip)
	}
}

func (d *Display) itemOK(r result) {
	if isIncludeAction(r.task.Action) {
		return
	}
	status, color := "ok", colorOK
	if pytext.Truthy(r.res["changed"]) {
		status, color = "changed", colorChanged
	} else if !d.opts.DisplayOKHosts {
		return
	}
	d.ensureBanner(r.task)
	msg := fmt.Sprintf("%s: [%s] => (item=%s)", status, r.label, pyStr(itemLabel(r.res)))
	r.cleanDebug()
	if d.verbose(r.res, 0) {
		msg += " => " + d.dumpResult(r.res, 0)
	}
	d.display(msg, color)
}

func (d *Display) itemFailed(r result) {
	d.ensureBanner(r.task)
	r.cleanDebug()
	d.handleException(r.res)
	d.handleWarnings(r.res)
	d.display(fmt.Sprintf("failed: [%s] (item=%s) => %s", r.label, pyStr(itemLabel(r.res)), d.dumpResult(r.res, 0)), colorError)
}

func (d *Display) itemSkipped(r result) {
	if !d.opts.DisplaySkippedHosts {
		return
	}
	d.ensureBanner(r.task)
	r.cleanDebug()
	// The trailing space is Ansible's.
	msg := fmt.Sprintf("skipping: [%s] => (item=%s) ", r.host, pyStr(itemLabel(r.res)))
	if d.verbose(r.res, 0) {
		msg += " => " + d.dumpResult(r.res, 0)
	}
	d.display(msg, colorSkip)
}

func (d *Display) retry(r result) {
	left := toInt(r.res["retries"]) - toInt(r.res["attempts"])
	msg := fmt.Sprintf("FAILED - RETRYING: [%s]: %s (%d retries left).", r.label, taskName(r.task), left)
	if d.verbose(r.res, 2) {
		msg += "Result was: " + d.dumpResult(r.res, 0)
	}
	d.display(msg, colorDebug)
}

// flushIncludes prints the held include events, one line per file and loop item with the
// hosts that included it, in the order they first came.
func (d *Display) flushIncludes() {
	for len(d.includes) > 0 {
		first := d.includes[0]
		var hosts []string
		rest := d.includes[:0]
		for _, in := range d.includes {
			if in.file == first.file && in.label == first.label {
				hosts = append(hosts, in.host)
			} else {
				rest = append(rest, in)
			}
		}
		d.includes = rest
		msg := fmt.Sprintf("included: %s for %s", first.file, strings.Join(hosts, ", "))
		if first.label != "" {
			msg += " => (item=" + first.label + ")"
		}
		d.display(msg, colorSkip)
	}
}

func (d *Display) stats(s *event.Stats) {
	d.banner("PLAY RECAP")
	hosts := make([]string, 0, len(s.Hosts))
	for h := range s.Hosts {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		t := s.Hosts[h]
		d.display(fmt.Sprintf("%s : %s %s %s %s %s %s %s",
			d.hostColor(h, t),
			d.colorize("ok", t.OK, colorOK),
			d.colorize("changed", t.Changed, colorChanged),
			d.colorize("unreachable", t.Unreachable, colorUnreachable),
			d.colorize("failed", t.Failures, colorError),
			d.colorize("skipped", t.Skipped, colorSkip),
			d.colorize("rescued", t.Rescued, colorOK),
			d.colorize("ignored", t.Ignored, colorWarn),
		), "")
	}
	d.display("", "")

	if !d.opts.ShowCustomStats || len(s.CustomStats) == 0 && len(s.GlobalCustomStats) == 0 {
		return
	}
	d.banner("CUSTOM STATS: ")
	names := make([]string, 0, len(s.CustomStats))
	for h := range s.CustomStats {
		names = append(names, h)
	}
	slices.Sort(names)
	for _, h := range names {
		d.display("\t"+h+": "+d.customStats(s.CustomStats[h]), "")
	}
	if len(s.GlobalCustomStats) > 0 {
		d.display("", "")
		d.display("\tRUN: "+d.customStats(s.GlobalCustomStats), "")
	}
	d.display("", "")
}

// customStats is the one-line form Ansible prints set_stats data in: JSON indented by one
// space with the newlines removed.
func (d *Display) customStats(data map[string]any) string {
	return strings.ReplaceAll(d.dumpResult(data, 1), "\n", "")
}

// banner prints a header padded with stars to the terminal width, as Display.banner does.
func (d *Display) banner(msg string) {
	msg = pytext.Strip(msg)
	stars := max(columns-textWidth(msg), 3)
	d.display("\n"+msg+" "+strings.Repeat("*", stars), "")
}

// display writes one message and a newline, coloured line by line when colour is on.
func (d *Display) display(msg, color string) {
	if d.err != nil {
		return
	}
	msg = strings.TrimSuffix(msg, "\n")
	if color != "" {
		msg = d.stringc(msg, color)
	}
	if _, err := io.WriteString(d.w, msg+"\n"); err != nil {
		d.err = fmt.Errorf("display: write output: %w", err)
	}
}

// warning prints a [WARNING] folded to the terminal width, once per run.
func (d *Display) warning(msg string) {
	text := strings.Join(wrapText("[WARNING]: "+msg, columns, true), "\n") + "\n"
	if !d.warned[text] {
		d.warned[text] = true
		d.display(text, colorWarn)
	}
}

// deprecated prints a [DEPRECATION WARNING] as Display.deprecated does, once per run.
func (d *Display) deprecated(msg, version, date, collection string) {
	msg = pytext.Strip(msg)
	if msg != "" && !strings.ContainsAny(msg[len(msg)-1:], "!?.") {
		msg += "."
	}
	if collection == "ansible.builtin" {
		collection = "ansible-core"
	}
	parts := []string{"[DEPRECATION WARNING]: " + msg, "This feature will be removed"}
	if collection != "" {
		parts = append(parts, "from "+collection)
	}
	switch {
	case date != "":
		parts = append(parts, "in a release after "+date+".")
	case version != "":
		parts = append(parts, "in version "+version+".")
	default:
		parts = append(parts, "in a future release.")
	}
	parts = append(parts, "Deprecation warnings can be disabled by setting deprecation_warnings=False in ansible.cfg.")
	text := strings.Join(wrapText(strings.Join(parts, " "), columns, false), "\n") + "\n"
	if !d.warned[text] {
		d.warned[text] = true
		d.display(pytext.Strip(text), colorDeprecate)
	}
}

// handleWarnings prints and removes a result's warnings and deprecations.
func (d *Display) handleWarnings(res map[string]any) {
	if pytext.Truthy(res["warnings"]) {
		for _, w := range asList(res["warnings"]) {
			d.warning(pyStr(w))
		}
		delete(res, "warnings")
	}
	if pytext.Truthy(res["deprecations"]) {
		for _, dep := range asList(res["deprecations"]) {
			m, ok := dep.(map[string]any)
			if !ok {
				m = map[string]any{"msg": dep}
			}
			d.deprecated(optStr(m["msg"]), optStr(m["version"]), optStr(m["date"]), optStr(m["collection_name"]))
		}
		delete(res, "deprecations")
	}
}

// handleException prints the last line of a module's traceback, or all of it from -vvv on.
func (d *Display) handleException(res map[string]any) {
	exc, ok := res["exception"]
	if !ok {
		return
	}
	text := pyStr(exc)
	msg := "An exception occurred during task execution. "
	if d.opts.Verbosity < 3 {
		lines := strings.Split(pytext.Strip(text), "\n")
		msg += "To see the full traceback, use -vvv. The error was: " + lines[len(lines)-1]
	} else {
		msg = "The full traceback is:\n" + text
		delete(res, "exception")
	}
	d.display(msg, colorError)
}

// verbose is CallbackBase._run_is_verbose: more -v than level, or a result that asks to be
// shown (debug), unless it asks not to be (fact gathering).
func (d *Display) verbose(res map[string]any, level int) bool {
	always, _ := res["_ansible_verbose_always"].(bool)
	override, present := res["_ansible_verbose_override"]
	return (d.opts.Verbosity > level || always) && (!present || override == false)
}

// dumpResult is CallbackBase._dump_results for the JSON result format.
func (d *Display) dumpResult(res map[string]any, indent int) string {
	if indent == 0 && (pytext.Truthy(res["_ansible_verbose_always"]) || d.opts.Verbosity > 2) {
		indent = 4
	}
	drop := []string{"exception"}
	if d.opts.Verbosity < 3 {
		drop = append(drop, "invocation", "diff")
	}
	copied := false
	for _, k := range drop {
		if _, ok := res[k]; ok {
			if !copied {
				res, copied = shallowCopy(res), true
			}
			delete(res, k)
		}
	}
	return dumpJSON(res, indent)
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// optStr reads an optional string argument: absent and None are empty.
func optStr(v any) string {
	if v == nil {
		return ""
	}
	return pyStr(v)
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

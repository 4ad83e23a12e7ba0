package display

import (
	"io"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk/event"
)

// Minimal prints a run as Ansible's minimal stdout callback does: a line per result,
// `host | STATUS => {json}`, or for command, shell and raw the command's output after
// `host | STATUS | rc=N >>`; no banners and no recap. Like all callbacks it is called from
// one goroutine.
type Minimal struct{ d *Display }

// NewMinimal returns a Minimal writing to w. Of opts, Verbosity and Color count.
func NewMinimal(w io.Writer, opts Options) *Minimal { return &Minimal{d: New(w, opts)} }

// Name is the callback's name.
func (m *Minimal) Name() string { return "minimal" }

// noJSONActions print their output rather than their result (C.MODULE_NO_JSON).
var noJSONActions = map[string]bool{"command": true, "shell": true, "raw": true,
	"ansible.builtin.command": true, "ansible.builtin.shell": true, "ansible.builtin.raw": true,
	"ansible.legacy.command": true, "ansible.legacy.shell": true, "ansible.legacy.raw": true}

// Event prints one event. It returns the first error writing to the output.
func (m *Minimal) Event(e *event.Event) error {
	d := m.d
	data := &e.Data
	task := data.Task
	if task == nil {
		task = &event.Task{}
	}
	switch e.Event {
	case event.RunnerItemOnOK:
		m.fileDiff(newResult(data, task))
	case event.RunnerOnOK:
		r := newResult(data, task)
		m.fileDiff(r)
		r.cleanDebug()
		d.handleWarnings(r.res)
		state, color := "SUCCESS", colorOK
		if pytext.Truthy(r.res["changed"]) {
			state, color = "CHANGED", colorChanged
		}
		if _, async := r.res["ansible_job_id"]; noJSONActions[task.Action] && !async {
			d.display(commandMsg(data.Host, r.res, state), color)
		} else {
			d.display(data.Host+" | "+state+" => "+d.dumpResult(r.res, 4), color)
		}
	case event.RunnerOnFailed:
		r := newResult(data, task)
		d.handleException(r.res)
		d.handleWarnings(r.res)
		if _, stderr := r.res["module_stderr"]; noJSONActions[task.Action] && !stderr {
			d.display(commandMsg(data.Host, r.res, "FAILED"), colorError)
		} else {
			d.display(data.Host+" | FAILED! => "+d.dumpResult(r.res, 4), colorError)
		}
	case event.RunnerOnSkipped:
		d.display(data.Host+" | SKIPPED", colorSkip)
	case event.RunnerOnUnreachable:
		r := newResult(data, task)
		d.display(data.Host+" | UNREACHABLE! => "+d.dumpResult(r.res, 4), colorUnreachable)
	}
	return d.err
}

// fileDiff prints a result's diff as the minimal callback's v2_on_file_diff does: changed or
// not, and an empty line for a diff without differences.
func (m *Minimal) fileDiff(r result) {
	if pytext.Truthy(r.res["diff"]) {
		m.d.display(m.d.diffText(r.res["diff"]), "")
	}
}

// commandMsg is the minimal callback's _command_generic_msg.
func commandMsg(host string, res map[string]any, caption string) string {
	rc := any(-1)
	if v, ok := res["rc"]; ok {
		rc = v
	}
	return host + " | " + caption + " | rc=" + pyStr(rc) + " >>\n" + optStr(res["stdout"]) + optStr(res["stderr"]) + optStr(res["msg"]) + "\n"
}

// Close does nothing: Minimal holds nothing back.
func (m *Minimal) Close() error { return m.d.err }

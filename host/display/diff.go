package display

import (
	"strings"

	"github.com/tallyrun/tally/internal/pytext"
	"github.com/tallyrun/tally/pluginsdk"
)

// Ansible's COLOR_DIFF_* defaults.
const (
	colorDiffAdd    = pluginsdk.ColorOK    // green
	colorDiffRemove = pluginsdk.ColorError // red
	colorDiffLines  = pluginsdk.ColorSkip  // cyan
)

// diffContext is Ansible's DIFF_CONTEXT: lines of context around each change.
const diffContext = 3

// fileDiff prints the diff of a changed result (a task's, or a loop item's) as the default
// callback's v2_on_file_diff does before the result's own line. The executor sends results with
// a "diff" only when diff mode is on for the task, as Ansible calls v2_on_file_diff only then.
func (d *Display) fileDiff(r result) {
	if !pytext.Truthy(r.res["diff"]) || !pytext.Truthy(r.res["changed"]) {
		return
	}
	if text := d.diffText(r.res["diff"]); text != "" {
		d.ensureBanner(r.task)
		d.display(text, "")
	}
}

// diffText is CallbackBase._get_diff: each diff of a result (a dict or a list of them) as
// notes on what was not diffed, a unified diff of before and after, and prepared text.
func (d *Display) diffText(diffs any) string {
	var b strings.Builder
	for _, v := range asList(diffs) {
		diff, ok := v.(map[string]any)
		if !ok {
			continue
		}
		for _, k := range []struct{ key, text string }{
			{"dst_binary", "diff skipped: destination file appears to be binary\n"},
			{"src_binary", "diff skipped: source file appears to be binary\n"},
		} {
			if _, ok := diff[k.key]; ok {
				b.WriteString(k.text)
			}
		}
		for _, k := range []struct{ key, text string }{
			{"dst_larger", "diff skipped: destination file size is greater than "},
			{"src_larger", "diff skipped: source file size is greater than "},
		} {
			if n, ok := diff[k.key]; ok {
				b.WriteString(k.text + pyStr(n) + "\n")
			}
		}
		before, hasBefore := diff["before"]
		after, hasAfter := diff["after"]
		if hasBefore && hasAfter {
			beforeHeader, afterHeader := "before", "after"
			if h, ok := diff["before_header"]; ok {
				beforeHeader += ": " + pyStr(h)
			}
			if h, ok := diff["after_header"]; ok {
				afterHeader += ": " + pyStr(h)
			}
			lines := pytext.UnifiedDiff(diffLines(before), diffLines(after), beforeHeader, afterHeader, diffContext)
			for _, line := range lines {
				switch {
				case strings.HasPrefix(line, "+"):
					line = d.stringc(line, colorDiffAdd)
				case strings.HasPrefix(line, "-"):
					line = d.stringc(line, colorDiffRemove)
				case strings.HasPrefix(line, "@@"):
					line = d.stringc(line, colorDiffLines)
				}
				b.WriteString(line)
			}
			if len(lines) > 0 {
				b.WriteString("\n")
			}
		}
		if p, ok := diff["prepared"]; ok {
			b.WriteString(pyStr(p))
		}
	}
	return b.String()
}

// diffLines are a diff side's lines as _get_diff makes them: a dict as sorted JSON indented by
// four, None as nothing, and a last line without its end marked as difflib users do.
func diffLines(v any) []string {
	var text string
	switch v := v.(type) {
	case nil:
	case map[string]any:
		s, _ := pytext.DumpJSON(v, pytext.JSONOptions{Pretty: true, Indent: "    ", EnsureASCII: true}) // no Converter: it cannot fail
		text = s + "\n"
	default:
		text = pyStr(v)
	}
	lines := pytext.SplitLinesKeepEnds(text)
	if n := len(lines); n > 0 && !strings.HasSuffix(lines[n-1], "\n") {
		lines[n-1] += "\n\\ No newline at end of file\n"
	}
	return lines
}

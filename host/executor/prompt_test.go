package executor

import (
	"maps"
	"testing"

	"github.com/tallyrun/tally/host/playbook"
)

// TestPromptVarsAsksAsAnsible pins the questions vars_prompt asks and the values it takes: the
// prompt with its default, "input for NAME" without a prompt, a confirmation asked again until
// both answers match, the default for an empty answer, and nothing asked for a -e variable.
func TestPromptVarsAsksAsAnsible(t *testing.T) {
	answers := map[string][]string{
		"Colour [blue]: ":           {""},
		"input for token: ":         {"t1", "t3"},
		"confirm input for token: ": {"t2", "t3"},
	}
	var asked []string
	var privates []bool
	var warnings []string
	x := New(Config{
		ExtraVars: map[string]any{"given": "cli"},
		Prompt: func(msg string, private bool) (string, error) {
			asked, privates = append(asked, msg), append(privates, private)
			a := answers[msg][0]
			answers[msg] = answers[msg][1:]
			return a, nil
		},
		Warn: func(s string) { warnings = append(warnings, s) },
	})
	play := &playbook.Play{VarsPrompt: []playbook.VarPrompt{
		{Name: "colour", Prompt: "Colour", Default: "blue"},
		{Name: "token", Private: true, Confirm: true},
		{Name: "given", Prompt: "Never asked"},
	}}
	vars := map[string]any{}
	if err := x.promptVars(play, vars); err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"colour": "blue", "token": "t3"}; !maps.Equal(vars, want) {
		t.Errorf("vars = %v, want %v", vars, want)
	}
	wantAsked := []string{"Colour [blue]: ", "input for token: ", "confirm input for token: ", "input for token: ", "confirm input for token: "}
	if len(asked) != len(wantAsked) {
		t.Fatalf("asked %q, want %q", asked, wantAsked)
	}
	for i := range asked {
		if asked[i] != wantAsked[i] || privates[i] != (i > 0) {
			t.Errorf("question %d = %q (private %v), want %q (private %v)", i, asked[i], privates[i], wantAsked[i], i > 0)
		}
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want the one that the values did not match", warnings)
	}
}

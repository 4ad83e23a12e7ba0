package executor

import (
	"fmt"

	"github.com/tallyrun/tally/host/playbook"
	"github.com/tallyrun/tally/internal/pytext"
)

// Prompter asks the user for a value with msg, without echoing the answer when private.
type Prompter func(msg string, private bool) (string, error)

// promptVars asks for a play's vars_prompt variables, as Ansible's PlaybookExecutor and
// Display.do_var_prompt do: a variable -e sets is not asked for; without a terminal (no
// Prompter) nothing is asked, with a warning, and the default (else the text "None") is taken.
func (x *Executor) promptVars(play *playbook.Play, vars map[string]any) error {
	for _, vp := range play.VarsPrompt {
		if _, ok := x.cfg.ExtraVars[vp.Name]; ok {
			continue
		}
		var answer string
		if x.cfg.Prompt == nil {
			if !x.promptWarned { // Ansible shows a warning once
				x.promptWarned = true
				x.cfg.Warn("Not prompting as we are not in interactive mode")
			}
		} else {
			msg := "input for " + vp.Name + ": "
			switch {
			case vp.Prompt != "" && vp.Default != nil:
				msg = fmt.Sprintf("%s [%s]: ", vp.Prompt, pytext.Str(vp.Default))
			case vp.Prompt != "":
				msg = vp.Prompt + ": "
			}
			for {
				var err error
				if answer, err = x.cfg.Prompt(msg, vp.Private); err != nil {
					return fmt.Errorf("%s: vars_prompt %s: %w", play.Pos, vp.Name, err)
				}
				if !vp.Confirm {
					break
				}
				second, err := x.cfg.Prompt("confirm "+msg, vp.Private)
				if err != nil {
					return fmt.Errorf("%s: vars_prompt %s: %w", play.Pos, vp.Name, err)
				}
				if answer == second {
					break
				}
				x.cfg.Warn("***** VALUES ENTERED DO NOT MATCH ****")
			}
		}
		var v any = answer
		switch {
		case answer == "" && vp.Default != nil:
			v = vp.Default
		case answer == "" && x.cfg.Prompt == nil:
			v = "None" // Python's str(None): what Ansible takes without a terminal
		}
		vars[vp.Name] = v
	}
	return nil
}

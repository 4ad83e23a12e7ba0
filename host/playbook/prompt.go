package playbook

import (
	"gopkg.in/yaml.v3"

	"github.com/tallyrun/tally/internal/pytext"
)

// VarPrompt is one entry of a play's vars_prompt: a variable asked of the user before the play
// runs, unless -e sets it.
type VarPrompt struct {
	Name    string
	Prompt  string // the question; "" asks "input for NAME: "
	Default any    // nil: none
	Private bool   // do not echo the answer (default true)
	Confirm bool   // ask twice until both answers match
}

// varsPromptField reads vars_prompt: a list of mappings with name, prompt, default, private and
// confirm. encrypt, salt, salt_size and unsafe are refused: tally does not have them.
func varsPromptField(d *doc, key string, p *Play, n *yaml.Node) error {
	v, err := d.value(n, 0)
	if err != nil {
		return err
	}
	list, ok := v.([]any)
	if v == nil {
		return nil
	}
	if !ok {
		return d.errorf(n, "'vars_prompt' must be a list of prompts")
	}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return d.errorf(n, "'vars_prompt' entries must be mappings")
		}
		vp := VarPrompt{Private: true, Default: m["default"]}
		for k, val := range m {
			switch k {
			case "name":
				vp.Name = pytext.Str(val)
			case "prompt":
				vp.Prompt = pytext.Str(val)
			case "private", "confirm":
				b, ok := val.(bool)
				if !ok {
					b = pytext.Truthy(val)
				}
				if k == "private" {
					vp.Private = b
				} else {
					vp.Confirm = b
				}
			case "default":
			case "encrypt", "salt", "salt_size", "unsafe":
				return d.errorf(n, "tally does not support '%s' in vars_prompt yet", k)
			default:
				return d.errorf(n, "'%s' is not a valid option in vars_prompt", k)
			}
		}
		if vp.Name == "" {
			return d.errorf(n, "Invalid vars_prompt data structure, missing 'name' key")
		}
		p.VarsPrompt = append(p.VarsPrompt, vp)
	}
	return nil
}

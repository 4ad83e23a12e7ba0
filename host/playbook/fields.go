package playbook

import (
	"strings"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
	"gopkg.in/yaml.v3"
)

// setter reads one keyword's value into obj (a *Play or *Task).
type setter[T any] func(d *doc, key string, obj T, n *yaml.Node) error

func strField[T any](f func(T) *string) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.str(key, n)
		return err
	}
}

func rawField[T any](f func(T) *any) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.value(n, 0)
		return err
	}
}

func tagsField[T any](f func(T) *[]string) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.tags(n)
		return err
	}
}

func condField[T any](f func(T) *[]string) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.conditions(key, n)
		return err
	}
}

func listField[T any](f func(T) *[]string) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.strList(key, n)
		return err
	}
}

// varsField reads vars; class names the object in messages as Ansible does ("Play").
func varsField[T any](class string, f func(T) *map[string]any) setter[T] {
	return func(d *doc, key string, obj T, n *yaml.Node) (err error) {
		*f(obj), err = d.vars(class, n)
		return err
	}
}

// str reads a string keyword; other scalars become their Python str() as in Ansible.
func (d *doc) str(key string, n *yaml.Node) (string, error) {
	v, err := d.value(n, 0)
	if err != nil {
		return "", err
	}
	switch v := template.Unwrap(v).(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case map[string]any, []any:
		return "", d.errorf(n, "the field '%s' must be a string, got a %s", key, kindName(n))
	default:
		return pytext.Str(v), nil
	}
}

// scalars reads a scalar or a list of scalars; nil for null.
func (d *doc) scalars(key string, n *yaml.Node, what string) ([]any, error) {
	v, err := d.value(n, 0)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	switch {
	case v == nil:
		return nil, nil
	case !ok:
		list = []any{v}
	}
	for _, item := range list {
		switch item.(type) {
		case map[string]any, []any:
			return nil, d.errorf(n, "the field '%s' must be %s", key, what)
		}
	}
	return list, nil
}

// conditions reads when, changed_when, failed_when or until: a string, a bool or a list of
// them, as strings. An empty or null condition holds, as in Ansible. An empty list gives nil.
func (d *doc) conditions(key string, n *yaml.Node) ([]string, error) {
	n, err := d.resolve(n, 0)
	if err != nil {
		return nil, err
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return []string{"True"}, nil
	}
	list, err := d.scalars(key, n, "a condition or a list of conditions")
	if err != nil || len(list) == 0 {
		return nil, err
	}
	out := make([]string, len(list))
	for i, c := range list {
		if c == nil || c == "" {
			c = true
		}
		if s, ok := c.(string); ok {
			out[i] = s
		} else {
			out[i] = pytext.Str(c)
		}
	}
	return out, nil
}

// strList reads notify, listen or vars_files: a string or a list of strings.
func (d *doc) strList(key string, n *yaml.Node) ([]string, error) {
	list, err := d.scalars(key, n, "a string or a list of strings")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, item := range list {
		switch item := item.(type) {
		case nil:
		case string:
			out = append(out, item)
		default:
			out = append(out, pytext.Str(item))
		}
	}
	return out, nil
}

// tags reads tags: a comma-separated string or a list of strings and numbers.
func (d *doc) tags(n *yaml.Node) ([]string, error) {
	v, err := d.value(n, 0)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		parts := strings.Split(v, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		return parts, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, item := range v {
			switch item := item.(type) {
			case string:
				out = append(out, item)
			case int, bool:
				out = append(out, pytext.Str(item))
			default:
				return nil, d.errorf(n, "tags must be strings or numbers, got %s", pytext.Str(item))
			}
		}
		return out, nil
	}
	return nil, d.errorf(n, "tags must be specified as a list")
}

// vars reads a vars keyword: a mapping or a list of mappings, merged in order.
func (d *doc) vars(class string, n *yaml.Node) (map[string]any, error) {
	v, err := d.value(n, 0)
	if err != nil {
		return nil, err
	}
	var list []any
	switch v := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		list = []any{v}
	case []any:
		list = v
	default:
		return nil, d.varsError(class, n)
	}
	out := map[string]any{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			return nil, d.varsError(class, n)
		}
		for k, val := range m {
			if !pytext.IsIdentifier(k) {
				return nil, d.errorf(n, "Invalid variable name in vars specified for %s: '%s' is not a valid variable name", class, k)
			}
			out[k] = val
		}
	}
	return out, nil
}

func (d *doc) varsError(class string, n *yaml.Node) error {
	return d.errorf(n, "Vars in a %s must be specified as a dictionary, or a list of dictionaries", class)
}

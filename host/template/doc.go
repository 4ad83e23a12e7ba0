// Package template renders Jinja2 templates the way Ansible (ansible-core
// 2.14) does, on top of gonja's lexer and parser with an evaluator of its
// own that follows Python semantics: Python's str() and repr() of values,
// truthiness, comparisons (chained too), arithmetic, % formatting, string
// and dict methods, and Ansible's strict undefined whose messages are
// Ansible's ("'foo' is undefined", "'dict object' has no attribute 'bar'").
//
// Values are nil, bool, int, float64, string, []any and map[string]any;
// other Go types in variables are converted on use. A map is keyed by
// str(key); the dict's insertion order and its keys that are not strs (the
// int key of {80: 'http'}) are recorded beside it by pytext.SetKeys, where
// they are known, and dicts iterate and print in that order (sorted when
// nothing is recorded). Tuples are lists.
//
// Result types follow Ansible's Templar (see Engine.Render): "{{ x }}" of a
// number or bool variable keeps it, a single expression yielding a list,
// dict or bool keeps it, and everything else is text that is converted back
// to a list, dict or bool when it reads as a Python literal.
//
// Lazy variables: a variable's value may itself be a template ("a: '{{ b
// }}'"), as in Ansible. It is rendered when the variable is first used in a
// call, with the same variables, and the result is reused for the rest of
// that call; this is how Ansible's AnsibleJ2Vars resolves variables at
// lookup time, rather than re-rendering a finished result. A variable that
// refers to itself, directly or through others, fails with an error naming
// it, and chains deeper than ten variables fail too. Two choices differ from
// Ansible because tally cannot tell data from templates the way Ansible's
// AnsibleUnsafe marking does: inside a variable's value, a string that does
// not parse as a template is used as plain text (command output may contain
// "{{"), and a string that uses an undefined variable makes only that string
// undefined, not the whole variable. Callers should wrap registered results
// and facts with Unsafe so that they are never templated at all.
//
// lookup(), query() and q() run lookup plugins through the Lookups the
// engine is given (SetLookups; host/lookup implements them), with Ansible's
// wantlist and result shapes. A !vault value (a Secret) is decrypted when a
// template uses it, and its text is never templated.
//
// Template files (Engine.RenderFile) also take {% macro %}, {% include %},
// {% import %}, {% from ... import %}, the "#jinja2:" header and the
// template module's whitespace and delimiter options.
//
// Not supported: call and filter blocks, macro callers,
// recursive loops, loop controls, inline if-expressions nested in
// parentheses or arguments (gonja's parser only reads them at the top of
// {{ }} and {% set %}), and Python regular-expression features RE2 lacks
// (backreferences, lookarounds).
package template

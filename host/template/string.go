package template

// String is Python's str() of a value, as Ansible turns a variable into text (environment
// values, command arguments): True, None, ['a', 'b'], {'k': 'v'}.
func String(v any) string { return pyStrLenient(v) }

package playbook

// Error is a playbook or task file that cannot be loaded: a YAML syntax error, an unknown
// keyword or module, a missing imported file. The CLI exits with code 4 on it, as
// ansible-playbook does on a parse error.
type Error struct {
	Pos Pos    // where the mistake is; Line is 0 when unknown
	Msg string // what is wrong, without the position
	Err error  // the underlying cause, if any (a file system error)
}

// Error formats the error as "file:line: message", or "file: message" without a line.
func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Pos.File + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

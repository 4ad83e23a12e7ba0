package module

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tallyrun/tally/host/template"
	"github.com/tallyrun/tally/internal/pytext"
)

// The modules in this file are Ansible action plugins that run on the controller only.

func runDebug(_ context.Context, t *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("debug", args, "msg", "var", "verbosity"); err != nil {
		return nil, err
	}
	msg, hasMsg := args["msg"]
	v, hasVar := args["var"]
	if hasMsg && hasVar {
		return fail("'msg' and 'var' are incompatible options"), nil
	}
	verbosity := 0
	if x, ok := args["verbosity"]; ok {
		n, err := convert(kindPyInt, x)
		if err != nil {
			return nil, fmt.Errorf("debug verbosity: %w", err)
		}
		verbosity = n.(int)
	}
	shown, _ := asInt(t.Vars["ansible_verbosity"])
	if verbosity > shown {
		return Result{"changed": false, "failed": false, "skipped": true, "skipped_reason": "Verbosity threshold not met."}, nil
	}
	r := Result{"changed": false, "failed": false, "_ansible_verbose_always": true}
	switch {
	case hasMsg:
		r["msg"] = msg
	case hasVar:
		key := pytext.Str(v)
		switch v.(type) {
		case []any, map[string]any:
			key = pyType(v) // as Ansible: a list or dict var is keyed by its type
		}
		val, err := evalVar(t, v)
		if err != nil {
			return nil, err
		}
		r[key] = val
	default:
		r["msg"] = "Hello world!"
	}
	return r, nil
}

// notDefined is what debug shows for an undefined variable.
const notDefined = "VARIABLE IS NOT DEFINED!"

// evalVar evaluates debug's var. Only a string is an expression; Ansible shows a list or dict
// as undefined.
func evalVar(t *Task, v any) (any, error) {
	expr, ok := v.(string)
	if !ok {
		return notDefined, nil
	}
	if t.Eval == nil {
		return nil, errors.New("debug: no template engine for this task")
	}
	val, err := t.Eval(expr)
	if err == nil {
		return val, nil
	}
	// Undefined variables, attributes and keys are shown as such (d['missing'] too).
	var u *template.UndefinedError
	if !errors.As(err, &u) && !strings.Contains(strings.ToLower(err.Error()), "undefined") {
		return nil, fmt.Errorf("debug var %s: %w", expr, err)
	}
	if shown, _ := asInt(t.Vars["ansible_verbosity"]); shown > 0 {
		return notDefined + ": " + err.Error(), nil
	}
	return notDefined, nil
}

// checkVarName rejects what Ansible's isidentifier rejects.
func checkVarName(k string) error {
	if !pytext.IsIdentifier(k) {
		return ansibleErr("The variable name '%s' is not valid. Variables must start with a letter or underscore character, and contain only letters, numbers and underscores.", k)
	}
	return nil
}

// runSetFact returns its arguments as facts; with cacheable, the executor also keeps them as
// the host's facts (under ansible_facts), as Ansible's fact cache does.
func runSetFact(_ context.Context, t *Task, args map[string]any) (Result, error) {
	facts := map[string]any{}
	cacheable := false
	for k, v := range args {
		if k == "cacheable" {
			cacheable = truthy(v)
			continue
		}
		// As Ansible's set_fact action, the names are templated too.
		if t.Render != nil {
			name, err := t.Render(k)
			if err != nil {
				return nil, err
			}
			k = name
		}
		if err := checkVarName(k); err != nil {
			return nil, err
		}
		// As Ansible without jinja2_native: these strings become booleans, however written.
		if s, ok := v.(string); ok && slices.Contains([]string{"true", "false", "yes", "no"}, strings.ToLower(s)) {
			v = truthy(s)
		}
		facts[k] = v
	}
	if len(facts) == 0 {
		return nil, ansibleErr("No key/value pairs provided, at least one is required for this action to succeed")
	}
	res := Result{"changed": false, "ansible_facts": facts}
	if cacheable {
		res["_ansible_facts_cacheable"] = true
	}
	return res, nil
}

func runSetStats(_ context.Context, _ *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("set_stats", args, "aggregate", "data", "per_host"); err != nil {
		return nil, err
	}
	stats := map[string]any{"data": map[string]any{}, "per_host": false, "aggregate": true}
	if d, ok := args["data"]; ok {
		data, isMap := d.(map[string]any)
		if !isMap {
			return fail("The 'data' option needs to be a dictionary/hash"), nil
		}
		for k := range data {
			if err := checkVarName(k); err != nil {
				return fail(err.Error()), nil
			}
		}
		stats["data"] = data
	}
	for _, opt := range []string{"per_host", "aggregate"} {
		if v, ok := args[opt]; ok && v != nil {
			stats[opt] = truthy(v)
		}
	}
	return Result{"changed": false, "ansible_stats": stats}, nil
}

func runFail(_ context.Context, _ *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("fail", args, "msg"); err != nil {
		return nil, err
	}
	msg := any("Failed as requested from task")
	if m, ok := args["msg"]; ok {
		msg = m
	}
	return Result{"changed": false, "failed": true, "msg": msg}, nil
}

// assertMsg checks a fail_msg, msg or success_msg argument as Ansible's assert does.
func assertMsg(name string, v any, def string) (any, error) {
	switch x := v.(type) {
	case nil:
		return def, nil
	case string:
		return x, nil
	case []any:
		for _, it := range x {
			if _, ok := it.(string); !ok {
				return nil, ansibleErr("Type of one of the elements in %s list is not string type", name)
			}
		}
		return x, nil
	}
	return nil, ansibleErr("Incorrect type for %s, expected a string or list and got %s", name, pyType(v))
}

func runAssert(_ context.Context, t *Task, args map[string]any) (Result, error) {
	if err := checkValidArgs("assert", args, "fail_msg", "msg", "quiet", "success_msg", "that"); err != nil {
		return nil, err
	}
	that, ok := args["that"]
	if !ok {
		return nil, errors.New(`conditional required in "that" string`)
	}
	failMsgArg := args["fail_msg"]
	if failMsgArg == nil {
		failMsgArg = args["msg"]
	}
	failMsg, err := assertMsg("fail_msg or msg", failMsgArg, "Assertion failed")
	if err != nil {
		return nil, err
	}
	successMsg, err := assertMsg("success_msg", args["success_msg"], "All assertions passed")
	if err != nil {
		return nil, err
	}
	r := Result{"changed": false}
	if !truthy(args["quiet"]) {
		r["_ansible_verbose_always"] = true
	}
	thats, isList := that.([]any)
	if !isList {
		thats = []any{that}
	}
	for _, c := range thats {
		ok, err := evalCondition(t, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			r["failed"], r["evaluated_to"], r["assertion"], r["msg"] = true, false, c, failMsg
			return r, nil
		}
	}
	r["msg"] = successMsg
	return r, nil
}

// evalCondition evaluates a conditional as Ansible's when and assert do: a string is a Jinja2
// expression, anything else is taken for its truth.
func evalCondition(t *Task, c any) (bool, error) {
	expr, ok := c.(string)
	if !ok {
		return pytext.Truthy(c), nil
	}
	if t.Cond == nil {
		return false, errors.New("assert: no template engine for this task")
	}
	ok, err := t.Cond(expr)
	if err != nil {
		return false, ansibleErr("The conditional check '%s' failed. The error was: %w", expr, err)
	}
	return ok, nil
}

var pauseSpec = &argSpec{module: "pause", options: map[string]option{
	"echo":    {kind: kindBool, def: true},
	"minutes": {kind: kindPyInt},
	"seconds": {kind: kindPyInt},
	"prompt":  {kind: kindStr},
}, exclusive: [][]string{{"minutes", "seconds"}}}

// runPause waits the time asked for. It never prompts: tally runs without a terminal dialog,
// so a pause without a duration returns at once, as Ansible's does when stdin is not a
// terminal.
func runPause(ctx context.Context, _ *Task, args map[string]any) (Result, error) {
	p, err := pauseSpec.parse(args)
	if err != nil {
		return nil, err
	}
	unit, seconds := "seconds", -1
	switch {
	case p.has("minutes"):
		unit, seconds = "minutes", p.int("minutes")*60
	case p.has("seconds"):
		seconds = p.int("seconds")
	}
	if seconds >= 0 && seconds < 1 {
		seconds = 1 // as Ansible's alarm
	}
	start := time.Now()
	if seconds > 0 {
		timer := time.NewTimer(time.Duration(seconds) * time.Second)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("pause: %w", ctx.Err())
		}
	}
	stop := time.Now()
	elapsed := stop.Sub(start).Seconds()
	if unit == "minutes" {
		elapsed /= 60
	}
	return Result{
		"changed": false, "rc": 0, "stderr": "", "start": pyDatetime(start), "stop": pyDatetime(stop),
		"delta": int(stop.Sub(start).Seconds()), "echo": p.bool("echo"), "user_input": "",
		"stdout": fmt.Sprintf("Paused for %s %s", pytext.FormatFloat(float64(int(elapsed*100+0.5))/100), unit),
	}, nil
}

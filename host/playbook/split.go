package playbook

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file ports ansible/parsing/splitter.py: the k=v argument strings of tasks
// ("copy: src=a dest=b", "command: echo hi chdir=/tmp").

var errUnbalanced = errors.New("failed at splitting arguments, either an unbalanced jinja2 block or quotes")

// errSplit is what Ansible reports when split_args fails with an IndexError (an argument
// string starting with a newline or two spaces).
var errSplit = errors.New("unable to parse argument string")

var errNoModule = errors.New("an action must start with a module name")

// splitArgs splits s on whitespace but keeps quoted strings and Jinja2 blocks whole, keeping
// the newlines, as Ansible's split_args does.
func splitArgs(s string) ([]string, error) {
	var params []string
	appendLast := func(text string) error {
		if len(params) == 0 {
			return errSplit
		}
		params[len(params)-1] += text
		return nil
	}
	var quoteChar byte
	insideQuotes := false
	printDepth, blockDepth, commentDepth := 0, 0, 0
	items := strings.Split(s, "\n")
	for itemIdx, item := range items {
		tokens := strings.Split(item, " ")
		lineContinuation := false
		for idx, token := range tokens {
			if token == "" && idx != 0 {
				if err := appendLast(" "); err != nil {
					return nil, err
				}
				continue
			}
			if token == `\` && !insideQuotes {
				lineContinuation = true
				continue
			}
			wasInsideQuotes := insideQuotes
			quoteChar = quoteState(token, quoteChar)
			insideQuotes = quoteChar != 0
			inJinja := printDepth != 0 || blockDepth != 0 || commentDepth != 0

			appended := false
			switch {
			case insideQuotes && !wasInsideQuotes && !inJinja:
				params = append(params, token)
				appended = true
			case inJinja || insideQuotes || wasInsideQuotes:
				sep := "\n"
				switch {
				case idx == 0 && wasInsideQuotes:
					sep = ""
				case len(tokens) > 1 && idx > 0:
					sep = " "
				case len(tokens) > 1:
					sep = ""
				}
				if err := appendLast(sep + token); err != nil {
					return nil, err
				}
				appended = true
			}

			for _, b := range []struct {
				depth       *int
				open, close string
			}{{&printDepth, "{{", "}}"}, {&blockDepth, "{%", "%}"}, {&commentDepth, "{#", "#}"}} {
				prev := *b.depth
				*b.depth = jinjaDepth(token, prev, b.open, b.close)
				if *b.depth != prev && !appended {
					params = append(params, token)
					appended = true
				}
			}

			if printDepth == 0 && blockDepth == 0 && commentDepth == 0 && !insideQuotes && !appended && token != "" {
				params = append(params, token)
			}
		}
		if len(items) > 1 && itemIdx != len(items)-1 && !lineContinuation {
			if err := appendLast("\n"); err != nil {
				return nil, err
			}
		}
	}
	if printDepth != 0 || blockDepth != 0 || commentDepth != 0 || insideQuotes {
		return nil, errUnbalanced
	}
	return params, nil
}

// quoteState returns the quote character still open after token, given the one open
// before it (0 for none).
func quoteState(token string, quoteChar byte) byte {
	for i := 0; i < len(token); i++ {
		c := token[i]
		if (c == '"' || c == '\'') && (i == 0 || token[i-1] != '\\') {
			switch {
			case quoteChar == 0:
				quoteChar = c
			case c == quoteChar:
				quoteChar = 0
			}
		}
	}
	return quoteChar
}

func jinjaDepth(token string, depth int, open, close string) int {
	n := strings.Count(token, open) - strings.Count(token, close)
	if n == 0 {
		return depth
	}
	return max(depth+n, 0)
}

// joinArgs joins what splitArgs split, keeping its newlines.
func joinArgs(params []string) string {
	var b strings.Builder
	for _, p := range params {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteByte(' ')
		}
		b.WriteString(p)
	}
	return b.String()
}

// rawOptions are the k=v options that command-like modules take out of their free-form
// text; any other k=v stays part of the command.
var rawOptions = map[string]bool{
	"creates": true, "removes": true, "chdir": true, "executable": true, "warn": true,
	"stdin": true, "stdin_add_newline": true, "strip_empty_ends": true,
}

// parseKV turns "a=1 b='x y'" into a map, as Ansible's parse_kv. Words that are not k=v go to
// "_raw_params"; with checkRaw (free-form modules) so do k=v pairs other than rawOptions.
func parseKV(s string, checkRaw bool) (map[string]any, error) {
	tokens, err := splitArgs(s)
	if err != nil {
		return nil, err
	}
	options := map[string]any{}
	var raw []string
	for _, orig := range tokens {
		x := decodeEscapes(orig)
		pos := unescapedEquals(x)
		if pos < 0 {
			if strings.Contains(x, "=") {
				raw = append(raw, strings.ReplaceAll(x, `\=`, "="))
			} else {
				raw = append(raw, orig)
			}
			continue
		}
		k, v := x[:pos], x[pos+1:]
		if checkRaw && !rawOptions[k] {
			raw = append(raw, orig)
			continue
		}
		options[strings.TrimSpace(k)] = unquote(strings.TrimSpace(v))
	}
	if len(raw) > 0 {
		options["_raw_params"] = joinArgs(raw)
	}
	return options, nil
}

// unescapedEquals returns the index of the first "=" after the first byte not preceded by a
// backslash, or -1.
func unescapedEquals(x string) int {
	for i := 1; i < len(x); i++ {
		if x[i] == '=' && x[i-1] != '\\' {
			return i
		}
	}
	return -1
}

// unquote removes matching outer quotes, as ansible.parsing.quoting.unquote.
func unquote(s string) string {
	if len(s) > 1 && s[0] == s[len(s)-1] && (s[0] == '"' || s[0] == '\'') && s[len(s)-2] != '\\' {
		return s[1 : len(s)-1]
	}
	return s
}

var escapeRE = regexp.MustCompile(`\\U[0-9a-fA-F]{8}|\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|\\[\\'"abfnrtv]`)

var simpleEscapes = map[byte]string{
	'\\': `\`, '\'': "'", '"': `"`, 'a': "\a", 'b': "\b", 'f': "\f", 'n': "\n", 'r': "\r", 't': "\t", 'v': "\v",
}

// decodeEscapes decodes the backslash escapes Ansible's _decode_escapes does (except
// \N{name}); an invalid code point is kept as written.
func decodeEscapes(s string) string {
	return escapeRE.ReplaceAllStringFunc(s, func(m string) string {
		if len(m) == 2 {
			return simpleEscapes[m[1]]
		}
		cp, err := strconv.ParseUint(m[2:], 16, 32)
		if err != nil || cp > utf8.MaxRune {
			return m
		}
		return string(rune(cp))
	})
}

// isTemplate reports whether s holds a Jinja2 delimiter.
func isTemplate(s string) bool {
	return strings.Contains(s, "{{") || strings.Contains(s, "{%") || strings.Contains(s, "{#")
}

// ParseKV turns "a=1 b='x y'" into a map of strings as Ansible's parse_kv does (the form of
// -e key=value); words that are not key=value go to "_raw_params".
func ParseKV(s string) (map[string]any, error) { return parseKV(s, false) }

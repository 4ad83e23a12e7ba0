//go:build !linux

package connection

import "errors"

// PromptPassword asks for a secret on the terminal; it is implemented on Linux only.
func PromptPassword(prompt string) (string, error) {
	return "", errors.New("ask for a password: prompting is supported on Linux only; give the password in a variable")
}

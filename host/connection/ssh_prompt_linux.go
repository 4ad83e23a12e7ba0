package connection

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// PromptPassword asks for a secret on the terminal (/dev/tty) without echoing it, as
// ansible-playbook's --ask-pass and --ask-become-pass do. With no terminal it fails instead
// of reading stdin, which may be a pipe meant for something else.
func PromptPassword(prompt string) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("ask for a password: no terminal to ask on: %w", err)
	}
	defer tty.Close()
	return promptOn(tty, prompt)
}

// promptOn writes prompt to the terminal tty and reads a line from it with echo off.
func promptOn(tty *os.File, prompt string) (string, error) {
	fd := int(tty.Fd())
	saved, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", fmt.Errorf("ask for a password: %s is not a terminal: %w", tty.Name(), err)
	}
	quiet := *saved
	quiet.Lflag &^= unix.ECHO
	quiet.Lflag |= unix.ICANON | unix.ISIG
	quiet.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err != nil {
		return "", fmt.Errorf("ask for a password: turn echo off on %s: %w", tty.Name(), err)
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, saved)
	fmt.Fprint(tty, prompt)
	line, err := bufio.NewReader(tty).ReadString('\n')
	fmt.Fprintln(tty) // the newline the user typed was not echoed
	if err != nil {
		return "", fmt.Errorf("ask for a password: read %s: %w", tty.Name(), err)
	}
	return strings.TrimSuffix(line, "\n"), nil
}

package pluginhost

import (
	"os"
	"path/filepath"
	"testing"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
)

// TestConfinedRefusesEveryCallThroughALinkThatLeadsOut calls each of the mounted directory's
// operations through links that lead out (relative, absolute, nested, and back in through
// ".."), and through links that stay inside.
func TestConfinedRefusesEveryCallThroughALinkThatLeadsOut(t *testing.T) {
	parent := t.TempDir()
	granted, outside := filepath.Join(parent, "granted"), filepath.Join(parent, "outside")
	for _, d := range []string{granted, outside, filepath.Join(outside, "victim"), filepath.Join(granted, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(outside, "secret.txt"), filepath.Join(granted, "sub", "mine.txt")} {
		if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"out": "../outside", "abs": outside, "sub/up": "../../outside",
		"sub/deep": "../sub/up", "inner": "sub", "file": "../outside/secret.txt"} {
		if err := os.Symlink(target, filepath.Join(granted, link)); err != nil {
			t.Fatal(err)
		}
	}
	c := newConfined(granted)
	open := func(p string, flag experimentalsys.Oflag) experimentalsys.Errno {
		f, errno := c.OpenFile(p, flag, 0o644)
		if errno == 0 {
			f.Close()
		}
		return errno
	}
	stat := func(p string) experimentalsys.Errno { _, errno := c.Stat(p); return errno }
	tests := []struct {
		name  string
		errno experimentalsys.Errno
		call  func() experimentalsys.Errno
	}{
		{"read through a relative link", experimentalsys.EPERM, func() experimentalsys.Errno { return open("out/secret.txt", experimentalsys.O_RDONLY) }},
		{"read through an absolute link", experimentalsys.EPERM, func() experimentalsys.Errno { return open("abs/secret.txt", experimentalsys.O_RDONLY) }},
		{"read a link to a file outside", experimentalsys.EPERM, func() experimentalsys.Errno { return open("file", experimentalsys.O_RDONLY) }},
		{"create through a nested link", experimentalsys.EPERM, func() experimentalsys.Errno {
			return open("sub/up/new.txt", experimentalsys.O_CREAT|experimentalsys.O_WRONLY)
		}},
		{"create through a link to a link", experimentalsys.EPERM, func() experimentalsys.Errno {
			return open("sub/deep/new.txt", experimentalsys.O_CREAT|experimentalsys.O_WRONLY)
		}},
		{"stat through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return stat("out/secret.txt") }},
		{"mkdir through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Mkdir("out/new", 0o755) }},
		{"chmod through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Chmod("file", 0o777) }},
		{"unlink through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Unlink("out/secret.txt") }},
		{"rmdir through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Rmdir("abs/victim") }},
		{"rename out", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Rename("sub/mine.txt", "out/moved.txt") }},
		{"rename in", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Rename("out/secret.txt", "stolen.txt") }},
		{"hard link to a file outside", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Link("out/secret.txt", "stolen.txt") }},
		{"utimens through a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Utimens("file", 0, 0) }},
		{"make a link", experimentalsys.EPERM, func() experimentalsys.Errno { return c.Symlink("..", "up") }},
		{"read through a link inside", 0, func() experimentalsys.Errno { return open("inner/mine.txt", experimentalsys.O_RDONLY) }},
		{"lstat a link that leads out", 0, func() experimentalsys.Errno { _, errno := c.Lstat("out"); return errno }},
		{"remove a link that leads out", 0, func() experimentalsys.Errno { return c.Unlink("file") }},
	}
	for _, tt := range tests {
		if got := tt.call(); got != tt.errno {
			t.Errorf("%s: errno %v, want %v", tt.name, got, tt.errno)
		}
	}
	entries, _ := os.ReadDir(outside)
	if data, _ := os.ReadFile(filepath.Join(outside, "secret.txt")); len(entries) != 2 || string(data) != "x" {
		t.Errorf("outside changed: %d entries, secret.txt %q", len(entries), data)
	}
}

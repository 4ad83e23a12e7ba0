package pluginhost

import (
	"io/fs"
	"strings"

	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"
)

// maxLinks is how many symbolic links one path may go through, as Linux's MAXSYMLINKS.
const maxLinks = 40

// confined is a directory granted to a plugin, mounted so that the plugin cannot leave it:
// every path it uses is resolved inside the directory, component by component, each symbolic
// link on the way replaced by its target, and a link that leads out (an absolute target, or
// one with more ".." than it has room for) is refused with EPERM, as wasmtime refuses it. The
// host opens the resolved path, whose last component is opened without following a link.
// The plugin cannot make links of its own (Symlink).
//
// wazero cleans each path the plugin gives lexically before it gets here, so ".." in a path
// never climbs above the mount; only links can lead out, and they are what this resolves.
// Another process changing the directory while a path is resolved is outside what this
// guards against: the operator owns the directory.
type confined struct{ dir experimentalsys.FS }

func newConfined(dir string) experimentalsys.FS {
	return confined{sysfs.DirFS(dir)}
}

// resolve returns path, relative to the directory, with every symbolic link in it replaced by
// where it leads; with follow false, a link in the last component is left as it is.
func (c confined) resolve(path string, follow bool) (string, experimentalsys.Errno) {
	trailing := strings.HasSuffix(path, "/")
	todo := strings.Split(path, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				return "", experimentalsys.EPERM // a link led above the directory
			}
			done = done[:len(done)-1]
			continue
		}
		at := strings.Join(append(done, name), "/")
		if len(todo) == 0 && !follow && !trailing {
			done = append(done, name)
			break
		}
		st, errno := c.dir.Lstat(at)
		if errno == experimentalsys.ENOENT {
			// Nothing more to resolve: what does not exist is not a link, and the host's
			// call fails on a missing directory before it reaches anything after it.
			done = append(append(done, name), todo...)
			break
		}
		if errno != 0 {
			return "", errno
		}
		if st.Mode&fs.ModeSymlink == 0 {
			done = append(done, name)
			continue
		}
		if links++; links > maxLinks {
			return "", experimentalsys.ELOOP
		}
		target, errno := c.dir.Readlink(at)
		if errno != 0 {
			return "", errno
		}
		if strings.HasPrefix(target, "/") {
			return "", experimentalsys.EPERM
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	resolved := strings.Join(done, "/")
	if resolved == "" {
		resolved = "."
	}
	if trailing {
		resolved += "/"
	}
	return resolved, 0
}

// OpenFile implements experimentalsys.FS.
func (c confined) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	resolved, errno := c.resolve(path, flag&experimentalsys.O_NOFOLLOW == 0)
	if errno != 0 {
		return nil, errno
	}
	return c.dir.OpenFile(resolved, flag|experimentalsys.O_NOFOLLOW, perm)
}

// Lstat implements experimentalsys.FS.
func (c confined) Lstat(path string) (st sys.Stat_t, errno experimentalsys.Errno) {
	if path, errno = c.resolve(path, false); errno != 0 {
		return st, errno
	}
	return c.dir.Lstat(path)
}

// Stat implements experimentalsys.FS.
func (c confined) Stat(path string) (st sys.Stat_t, errno experimentalsys.Errno) {
	if path, errno = c.resolve(path, true); errno != 0 {
		return st, errno
	}
	return c.dir.Lstat(path) // resolved: no link left to follow
}

// Mkdir implements experimentalsys.FS.
func (c confined) Mkdir(path string, perm fs.FileMode) experimentalsys.Errno {
	return c.on(path, false, func(p string) experimentalsys.Errno { return c.dir.Mkdir(p, perm) })
}

// Chmod implements experimentalsys.FS.
func (c confined) Chmod(path string, perm fs.FileMode) experimentalsys.Errno {
	return c.on(path, true, func(p string) experimentalsys.Errno { return c.dir.Chmod(p, perm) })
}

// Rename implements experimentalsys.FS.
func (c confined) Rename(from, to string) experimentalsys.Errno {
	return c.on2(from, to, c.dir.Rename)
}

// Rmdir implements experimentalsys.FS.
func (c confined) Rmdir(path string) experimentalsys.Errno {
	return c.on(path, false, c.dir.Rmdir)
}

// Unlink implements experimentalsys.FS.
func (c confined) Unlink(path string) experimentalsys.Errno {
	return c.on(path, false, c.dir.Unlink)
}

// Link implements experimentalsys.FS.
func (c confined) Link(oldPath, newPath string) experimentalsys.Errno {
	return c.on2(oldPath, newPath, c.dir.Link)
}

// Symlink implements experimentalsys.FS: a plugin cannot make links, which could lead out.
func (confined) Symlink(_, _ string) experimentalsys.Errno { return experimentalsys.EPERM }

// Readlink implements experimentalsys.FS.
func (c confined) Readlink(path string) (string, experimentalsys.Errno) {
	path, errno := c.resolve(path, false)
	if errno != 0 {
		return "", errno
	}
	return c.dir.Readlink(path)
}

// Utimens implements experimentalsys.FS.
func (c confined) Utimens(path string, atim, mtim int64) experimentalsys.Errno {
	return c.on(path, true, func(p string) experimentalsys.Errno { return c.dir.Utimens(p, atim, mtim) })
}

// on calls fn with path resolved.
func (c confined) on(path string, follow bool, fn func(string) experimentalsys.Errno) experimentalsys.Errno {
	path, errno := c.resolve(path, follow)
	if errno != 0 {
		return errno
	}
	return fn(path)
}

// on2 calls fn with both paths resolved, their last components left as they are.
func (c confined) on2(a, b string, fn func(string, string) experimentalsys.Errno) experimentalsys.Errno {
	a, errno := c.resolve(a, false)
	if errno != 0 {
		return errno
	}
	if b, errno = c.resolve(b, false); errno != 0 {
		return errno
	}
	return fn(a, b)
}

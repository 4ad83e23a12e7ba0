package connection

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/pkg/sftp"
)

// Files move over the connection's SFTP subsystem when the host has one, in one session kept
// open for the run: that starts no process per file, where the shell stream (PutCommand)
// starts four, measured 9x slower for small files. Writing as another user (become) and
// hosts without SFTP use the shell stream.

// files returns the SFTP client, opening it on first use; nil if the host offers no SFTP.
func (s *SSH) files() *sftp.Client {
	s.sftpOnce.Do(func() {
		if !s.sftpSlot {
			return
		}
		if c, err := sftp.NewClient(s.client, sftp.UseConcurrentWrites(true)); err == nil {
			s.sftp = c
		}
	})
	return s.sftp
}

// Put writes dst atomically: a temporary file in the same directory, given the owner and
// group of an existing dst where allowed and then mode, renamed over dst (see PutCommand).
func (s *SSH) Put(ctx context.Context, dst string, data []byte, mode fs.FileMode, become *Become) error {
	c := s.files()
	if c == nil || NeedsBecome(become, s.user) {
		return putViaShell(ctx, s, dst, data, mode, become)
	}
	if err := s.sftpPut(ctx, c, dst, data, mode); err != nil {
		return fmt.Errorf("put %s: %w", dst, err)
	}
	return nil
}

func (s *SSH) sftpPut(ctx context.Context, c *sftp.Client, dst string, data []byte, mode fs.FileMode) error {
	tmp, err := tempName(dst)
	if err != nil {
		return err
	}
	f, err := c.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("create a file in %s: %w", path.Dir(dst), s.sftpError(ctx, err))
	}
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	// The owner first, as chown clears setuid and setgid bits; the permissions before the
	// data, which others must not read through the default ones; setuid and setgid last, as
	// writing clears them.
	if fi, err := c.Lstat(dst); err == nil && fi.Mode().IsRegular() {
		if st, ok := fi.Sys().(*sftp.FileStat); ok {
			_ = f.Chown(int(st.UID), int(st.GID)) // not allowed: the writer keeps it, as with cp
		}
	}
	err = f.Chmod(mode &^ (fs.ModeSetuid | fs.ModeSetgid))
	if err == nil {
		_, err = f.ReadFrom(bytes.NewReader(data))
	}
	if err == nil && mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
		err = f.Chmod(mode)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.PosixRename(tmp, dst)
	}
	if err != nil {
		c.Remove(tmp)
		return s.sftpError(ctx, err)
	}
	return nil
}

// Fetch reads src.
func (s *SSH) Fetch(ctx context.Context, src string, become *Become) ([]byte, error) {
	c := s.files()
	if c == nil || NeedsBecome(become, s.user) {
		return fetchViaShell(ctx, s, src, become)
	}
	f, err := c.Open(src)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src, s.sftpError(ctx, err))
	}
	defer f.Close()
	stop := context.AfterFunc(ctx, func() { f.Close() })
	defer stop()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", src, s.sftpError(ctx, err))
	}
	return buf.Bytes(), nil
}

// sftpError returns the error for an SFTP request that failed with err: ctx's error when it
// is done, an UnreachableError when the connection is lost, otherwise err as the os package
// reports it ("file does not exist", "permission denied").
func (s *SSH) sftpError(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, sftp.ErrSSHFxConnectionLost), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return s.lost(err)
	}
	return err
}

// tempName returns a name for a new file beside path, hidden and unlikely to be taken.
func tempName(dst string) (string, error) {
	var suffix [8]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return "", err
	}
	return path.Join(path.Dir(dst), "."+path.Base(dst)+".tally-tmp."+hex.EncodeToString(suffix[:])), nil
}

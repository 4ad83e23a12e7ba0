package connection

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns the two ends of a new pseudo-terminal, closed when the test ends.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

func TestPromptOnReadsWithoutEcho(t *testing.T) {
	master, tty := openPTY(t)
	typed := make(chan []byte, 1)
	go func() {
		// Type only once the prompt shows: echo is off by then.
		var screen []byte
		buf := make([]byte, 256)
		for !bytes.Contains(screen, []byte("Password: ")) {
			n, err := master.Read(buf)
			if err != nil {
				typed <- screen
				return
			}
			screen = append(screen, buf[:n]...)
		}
		master.Write([]byte("s3 cret\n"))
		master.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		for {
			n, err := master.Read(buf)
			screen = append(screen, buf[:n]...)
			if err != nil || bytes.HasSuffix(screen, []byte("\n")) {
				typed <- screen
				return
			}
		}
	}()
	got, err := promptOn(tty, "Password: ")
	if err != nil || got != "s3 cret" {
		t.Errorf("promptOn = %q, %v; want the typed line", got, err)
	}
	if screen := <-typed; strings.Contains(string(screen), "s3") {
		t.Errorf("the terminal echoed the password: %q", screen)
	}
	attrs, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil || attrs.Lflag&unix.ECHO == 0 {
		t.Errorf("echo was not turned back on (%v)", err)
	}
}

func TestPromptOnRefusesANonTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := promptOn(f, "Password: "); err == nil || !strings.Contains(err.Error(), "is not a terminal") {
		t.Errorf("promptOn on a file = %v, want a not-a-terminal error", err)
	}
}

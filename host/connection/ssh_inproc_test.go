package connection

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// The tests in this file use in-process servers for failures that a real sshd does not
// produce on cue.

// listen returns a loopback listener closed when the test ends, and the connection
// variables that reach it with host key checking off and no known hosts.
func listen(t *testing.T) (net.Listener, map[string]any) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, map[string]any{"ansible_host": "127.0.0.1", "ansible_port": l.Addr().(*net.TCPAddr).Port,
		"ansible_user": "nobody", "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"}
}

// TestSSHConnectTimeout dials a server that accepts TCP connections but never says a word:
// the timeout covers the handshake, which x/crypto/ssh does not bound.
func TestSSHConnectTimeout(t *testing.T) {
	t.Parallel()
	l, vars := listen(t)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})

	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		_, err := DialSSH(context.Background(), "web1", vars, SSHOptions{Timeout: 300 * time.Millisecond})
		if !IsUnreachable(err) || !strings.Contains(err.Error(), "timed out after 300ms (SSH handshake and login)") {
			t.Errorf("DialSSH = %v, want unreachable: timed out", err)
		}
		if d := time.Since(start); d > 8*time.Second { // below the 10 s default, with headroom for a busy machine
			t.Errorf("took %v", d)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err := DialSSH(ctx, "web1", vars, SSHOptions{})
		if !errors.Is(err, context.Canceled) || IsUnreachable(err) {
			t.Errorf("DialSSH = %v, want the context's error", err)
		}
	})
}

// fakeServer serves SSH on l without authentication and calls onExec for each command, with
// the connection to cut or stall.
func fakeServer(t *testing.T, l net.Listener, onExec func(c *stallConn)) {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &ssh.ServerConfig{NoClientAuth: true}
	cfg.AddHostKey(signer)
	done := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(done); l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			raw, err := l.Accept()
			if err != nil {
				return
			}
			c := &stallConn{Conn: raw, stall: make(chan struct{}), done: done}
			wg.Go(func() {
				defer c.Close()
				serveFake(c, cfg, onExec)
			})
		}
	})
}

func serveFake(c *stallConn, cfg *ssh.ServerConfig, onExec func(c *stallConn)) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		ch, reqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range reqs {
				req.Reply(req.Type == "exec", nil)
				if req.Type == "exec" {
					onExec(c)
				}
			}
			ch.Close()
		}()
	}
}

// stallConn is a server's connection that can stop reading, as a peer that died without a
// word: what it receives after Stall is never processed.
type stallConn struct {
	net.Conn
	once  sync.Once
	stall chan struct{}
	done  chan struct{} // the test is over
}

func (c *stallConn) Stall() { c.once.Do(func() { close(c.stall) }) }

func (c *stallConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	select {
	case <-c.stall:
		<-c.done
		return 0, net.ErrClosed
	default:
		return n, err
	}
}

func TestSSHConnectionLostMidCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		onExec  func(c *stallConn)
		opts    SSHOptions
		wantErr string
	}{
		{name: "dropped", onExec: func(c *stallConn) { c.Conn.Close() },
			wantErr: ": connection closed by remote host"},
		{name: "reset", onExec: func(c *stallConn) { c.Conn.(*net.TCPConn).SetLinger(0); c.Conn.Close() },
			wantErr: ": connection closed by remote host"},
		{name: "peer silent: keepalives time out", onExec: func(c *stallConn) { c.Stall() },
			opts:    SSHOptions{KeepaliveInterval: 100 * time.Millisecond, KeepaliveCountMax: 2},
			wantErr: ": no answer to keepalives for 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, vars := listen(t)
			fakeServer(t, l, tt.onExec)
			c, err := DialSSH(context.Background(), "web1", vars, tt.opts)
			if err != nil {
				t.Fatalf("DialSSH: %v", err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = c.Exec(ctx, Command{Cmd: "sleep 60"})
			if !IsUnreachable(err) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Exec = %v, want unreachable: %s", err, tt.wantErr)
			}
		})
	}
}

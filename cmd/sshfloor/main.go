// Command sshfloor measures the floor under any runner that works over SSH: it opens one
// connection per host and runs the benchmark's tasks as bare commands, each task on every
// host at once, then the next, as a linear strategy does. bench/e2e/run.sh compares tally
// and ansible-playbook with it.
//
//	sshfloor -addr 127.0.0.1:2222 -user tallytest -key id_ed25519 -known-hosts known_hosts -n 20
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// task is one benchmark task as a command, where HOST stands for the host's name.
type task struct {
	cmd   string
	stdin string
}

// tasks mirror bench/e2e/playbook.yml.
var tasks = []task{
	{cmd: "hostname"},
	{cmd: "echo $HOME"},
	{cmd: "uname -a"},
	{cmd: "cat > /tmp/tally-bench-HOST.txt", stdin: "tally bench\n"},
	{cmd: "cat /tmp/tally-bench-HOST.txt"},
}

func main() {
	addr := flag.String("addr", "127.0.0.1:22", "the sshd every host is")
	user := flag.String("user", "", "login user")
	keyFile := flag.String("key", "", "private key file")
	knownHosts := flag.String("known-hosts", "", "known_hosts file holding the server's key")
	n := flag.Int("n", 20, "number of hosts (connections)")
	flag.Parse()
	start := time.Now()
	if err := run(*addr, *user, *keyFile, *knownHosts, *n); err != nil {
		fmt.Fprintln(os.Stderr, "sshfloor:", err)
		os.Exit(1)
	}
	fmt.Printf("sshfloor: %d hosts x %d tasks in %.3fs\n", *n, len(tasks), time.Since(start).Seconds())
}

func run(addr, user, keyFile, knownHostsFile string, n int) error {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", keyFile, err)
	}
	check, err := knownhosts.New(knownHostsFile)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{User: user, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)}, HostKeyCallback: check, Timeout: 10 * time.Second}
	clients := make([]*ssh.Client, n)
	if err := onEach(n, func(i int) (err error) {
		clients[i], err = ssh.Dial("tcp", addr, cfg)
		return err
	}); err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, t := range tasks {
		if err := onEach(n, func(i int) error {
			return exec(clients[i], strings.ReplaceAll(t.cmd, "HOST", fmt.Sprintf("h%03d", i+1)), t.stdin)
		}); err != nil {
			return err
		}
	}
	return nil
}

// onEach runs f for hosts 0 to n-1 at once and returns the first error.
func onEach(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func exec(c *ssh.Client, cmd, stdin string) error {
	s, err := c.NewSession()
	if err != nil {
		return err
	}
	defer s.Close()
	var out bytes.Buffer
	s.Stdin, s.Stdout, s.Stderr = bytes.NewBufferString(stdin), &out, &out
	if err := s.Run(cmd); err != nil {
		return fmt.Errorf("%s: %w: %s", cmd, err, out.Bytes())
	}
	return nil
}

// Command sshfloor measures the floor under any runner that works over SSH: it opens one
// connection per host and runs the benchmark's tasks as bare commands, each task on every
// host (at most -f at once), then the next, as a linear strategy does. bench/e2e/run.sh and
// bench/scale/run.sh compare tally and ansible-playbook with it.
//
//	sshfloor -addr 127.0.0.1:2222 -user tallytest -key id_ed25519 -known-hosts known_hosts -n 20
//	sshfloor -tasks scale -dir /tmp/hosts -spread -addr 127.0.1.1:2222 ... -n 1000 -f 200
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// task is one benchmark task as a command, where HOST stands for the host's name (also in
// stdin) and DIR for its directory (-dir/HOST).
type task struct {
	cmd   string
	stdin string
}

// taskSets mirror bench/e2e/playbook.yml and bench/scale/playbook.yml (set_fact and debug run
// nothing on the host; the loop is three commands; the handler the last).
var taskSets = map[string][]task{
	"e2e": {
		{cmd: "hostname"},
		{cmd: "echo $HOME"},
		{cmd: "uname -a"},
		{cmd: "cat > /tmp/tally-bench-HOST.txt", stdin: "tally bench\n"},
		{cmd: "cat /tmp/tally-bench-HOST.txt"},
	},
	"scale": {
		{cmd: "mkdir -p DIR"},
		{cmd: "echo $HOME > DIR/home"},
		{cmd: "cat > DIR/copied.txt", stdin: "tally scale\n"},
		{cmd: "cat > DIR/templated.txt", stdin: "host HOST of N\n"},
		{cmd: "stat -c %s DIR/copied.txt"},
		{cmd: "grep -qxF 'host HOST' DIR/copied.txt || echo 'host HOST' >> DIR/copied.txt"},
		{cmd: "echo a"},
		{cmd: "echo b"},
		{cmd: "echo c"},
		{cmd: "cat DIR/copied.txt"},
	},
}

func main() {
	addr := flag.String("addr", "127.0.0.1:22", "the sshd every host is")
	user := flag.String("user", "", "login user")
	keyFile := flag.String("key", "", "private key file")
	knownHosts := flag.String("known-hosts", "", "known_hosts file holding the server's key")
	n := flag.Int("n", 20, "number of hosts (connections)")
	forks := flag.Int("f", 0, "hosts at work at once (0: all)")
	set := flag.String("tasks", "e2e", "the benchmark whose tasks to run: e2e or scale")
	dir := flag.String("dir", "/tmp", "the directory under which each host has its own (scale)")
	spread := flag.Bool("spread", false, "host i connects to the address i after -addr's (127.0.1.1, 127.0.1.2, ...)")
	flag.Parse()
	tasks, ok := taskSets[*set]
	if !ok {
		fmt.Fprintf(os.Stderr, "sshfloor: -tasks %q: not e2e or scale\n", *set)
		os.Exit(2)
	}
	if *forks <= 0 || *forks > *n {
		*forks = *n
	}
	start := time.Now()
	b := bench{tasks: tasks, n: *n, forks: *forks, dir: *dir}
	if err := b.run(*addr, *spread, *user, *keyFile, *knownHosts); err != nil {
		fmt.Fprintln(os.Stderr, "sshfloor:", err)
		os.Exit(1)
	}
	fmt.Printf("sshfloor: %d hosts x %d tasks, %d at once, in %.3fs\n", *n, len(tasks), *forks, time.Since(start).Seconds())
}

type bench struct {
	tasks    []task
	n, forks int
	dir      string
}

// hostAddr is host i's address: addr, or with spread the i-th address after addr's.
func hostAddr(addr string, spread bool, i int) (string, error) {
	if !spread {
		return addr, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("-addr %s: %w", addr, err)
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() {
		return "", fmt.Errorf("-addr %s: -spread needs an IPv4 address", addr)
	}
	a := ip.As4()
	v := binary.BigEndian.Uint32(a[:]) + uint32(i)
	binary.BigEndian.PutUint32(a[:], v)
	return net.JoinHostPort(netip.AddrFrom4(a).String(), port), nil
}

func (b bench) run(addr string, spread bool, user, keyFile, knownHostsFile string) error {
	n := b.n
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
	if err := b.onEach(func(i int) error {
		a, err := hostAddr(addr, spread, i)
		if err != nil {
			return err
		}
		clients[i], err = ssh.Dial("tcp", a, cfg)
		return err
	}); err != nil {
		return err
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for _, t := range b.tasks {
		if err := b.onEach(func(i int) error {
			name := fmt.Sprintf("h%03d", i+1)
			r := strings.NewReplacer("HOST", name, "DIR", b.dir+"/"+name, "N", strconv.Itoa(n))
			return exec(clients[i], r.Replace(t.cmd), r.Replace(t.stdin))
		}); err != nil {
			return err
		}
	}
	return nil
}

// onEach runs f for hosts 0 to n-1, at most forks at once, and returns the first error.
func (b bench) onEach(f func(i int) error) error {
	errs := make([]error, b.n)
	slots := make(chan struct{}, b.forks)
	var wg sync.WaitGroup
	for i := range b.n {
		slots <- struct{}{}
		wg.Go(func() {
			errs[i] = f(i)
			<-slots
		})
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

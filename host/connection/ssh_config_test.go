package connection

import (
	"os/user"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestResolveSSHTarget(t *testing.T) {
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	defaults := func() *sshTarget {
		return &sshTarget{
			endpoint:         sshEndpoint{user: me.Username, host: "web1", port: 22},
			strict:           "yes",
			userKnownHosts:   []string{expandHome("~/.ssh/known_hosts")},
			globalKnownHosts: []string{"/etc/ssh/ssh_known_hosts"},
			timeout:          10 * time.Second,
			keepalive:        15 * time.Second,
			keepaliveMax:     3,
			maxSessions:      8,
		}
	}
	tests := []struct {
		name string
		vars map[string]any
		opts SSHOptions
		want func(t *sshTarget) // changes to the defaults
	}{
		{name: "defaults", want: func(*sshTarget) {}},
		{name: "variables",
			vars: map[string]any{"ansible_host": "10.0.0.1", "ansible_port": 2222, "ansible_user": "deploy",
				"ansible_ssh_private_key_file": "~/k", "ansible_password": "pw", "ansible_ssh_timeout": "3"},
			opts: SSHOptions{User: "u", Port: 2, PrivateKeyFile: "/opt-key", Password: "opt-pw", Timeout: time.Minute},
			want: func(t *sshTarget) {
				t.endpoint = sshEndpoint{user: "deploy", host: "10.0.0.1", port: 2222}
				t.keyFiles, t.password, t.timeout = []string{expandHome("~/k")}, "pw", 3*time.Second
			}},
		{name: "the _ssh_ aliases",
			vars: map[string]any{"ansible_ssh_host": "h", "ansible_ssh_port": "2200", "ansible_ssh_user": "u", "ansible_ssh_pass": "pw"},
			want: func(t *sshTarget) {
				t.endpoint, t.password = sshEndpoint{user: "u", host: "h", port: 2200}, "pw"
			}},
		{name: "options fill what variables leave unset",
			opts: SSHOptions{User: "u", Port: 2, PrivateKeyFile: "/k", Password: "pw", Timeout: time.Minute, KnownHostsFile: "/kh",
				KeepaliveInterval: -1, MaxSessions: 3},
			want: func(t *sshTarget) {
				t.endpoint = sshEndpoint{user: "u", host: "web1", port: 2}
				t.keyFiles, t.password, t.timeout, t.userKnownHosts = []string{"/k"}, "pw", time.Minute, []string{"/kh"}
				t.keepalive, t.maxSessions = 0, 3
			}},
		{name: "checking off",
			vars: map[string]any{"ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"},
			want: func(t *sshTarget) { t.strict, t.userKnownHosts = "no", nil }},
		{name: "checking off by variable beats the args",
			vars: map[string]any{"ansible_host_key_checking": "no", "ansible_ssh_common_args": "-o StrictHostKeyChecking=yes"},
			want: func(t *sshTarget) { t.strict = "no" }},
		{name: "checking off by option", opts: SSHOptions{NoHostKeyChecking: true},
			want: func(t *sshTarget) { t.strict = "no" }},
		{name: "the variable turns checking back on", vars: map[string]any{"ansible_host_key_checking": true}, opts: SSHOptions{NoHostKeyChecking: true},
			want: func(*sshTarget) {}},
		{name: "accept-new and known hosts files, quoted",
			vars: map[string]any{"ansible_ssh_common_args": `-oStrictHostKeyChecking=accept-new -o "UserKnownHostsFile='/a b' ~/c" -o GlobalKnownHostsFile=none`},
			want: func(t *sshTarget) {
				t.strict, t.userKnownHosts, t.globalKnownHosts = "accept-new", []string{"/a b", expandHome("~/c")}, nil
			}},
		{name: "-J", vars: map[string]any{"ansible_ssh_common_args": "-J bastion"},
			want: func(t *sshTarget) { t.jumps = []sshEndpoint{{user: me.Username, host: "bastion", port: 22}} }},
		{name: "ProxyJump chain", vars: map[string]any{"ansible_ssh_extra_args": "-o ProxyJump=ops@b1:2200,ssh://[::1]:23,[fe80::1]"},
			want: func(t *sshTarget) {
				t.jumps = []sshEndpoint{{user: "ops", host: "b1", port: 2200}, {user: me.Username, host: "::1", port: 23},
					{user: me.Username, host: "fe80::1", port: 22}}
			}},
		{name: "ProxyJump none", vars: map[string]any{"ansible_ssh_common_args": "-o ProxyJump=none -J b"},
			want: func(*sshTarget) {}},
		{name: "ssh flags fill what variables leave unset",
			vars: map[string]any{"ansible_ssh_common_args": "-C -q -p2200 -l bob -i /k1 -o IdentitiesOnly=yes -o ControlPersist=60s"},
			want: func(t *sshTarget) {
				t.endpoint, t.keyFiles, t.identitiesOnly = sshEndpoint{user: "bob", host: "web1", port: 2200}, []string{"/k1"}, true
			}},
		{name: "variables beat the common args; key files add up",
			vars: map[string]any{"ansible_port": 2, "ansible_user": "u", "ansible_ssh_private_key_file": "/k0",
				"ansible_ssh_common_args": `-p 3 -o User="bob" -i /k1`},
			want: func(t *sshTarget) {
				t.endpoint, t.keyFiles = sshEndpoint{user: "u", host: "web1", port: 2}, []string{"/k0", "/k1"}
			}},
		{name: "ssh_args come first, as on Ansible's ssh command line",
			vars: map[string]any{"ansible_port": 2, "ansible_ssh_args": "-o Port=1 -o ConnectTimeout=4"},
			want: func(t *sshTarget) { t.endpoint.port, t.timeout = 1, 4*time.Second }},
		{name: "the timeout option beats ConnectTimeout in the args",
			vars: map[string]any{"ansible_ssh_common_args": "-o ConnectTimeout=4"}, opts: SSHOptions{Timeout: 5 * time.Second},
			want: func(t *sshTarget) { t.timeout = 5 * time.Second }},
		{name: "ConnectTimeout in the args without the option",
			vars: map[string]any{"ansible_ssh_common_args": "-o ConnectTimeout=4"},
			want: func(t *sshTarget) { t.timeout = 4 * time.Second }},
		{name: "keepalive options",
			vars: map[string]any{"ansible_ssh_common_args": "-o ServerAliveInterval=5 -o ServerAliveCountMax=2"},
			want: func(t *sshTarget) { t.keepalive, t.keepaliveMax = 5*time.Second, 2 }},
		{name: "ServerAliveInterval=0 is off",
			vars: map[string]any{"ansible_ssh_common_args": "-o ServerAliveInterval=0"},
			want: func(t *sshTarget) { t.keepalive = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := resolveSSHTarget("web1", tt.vars, tt.opts)
			if err != nil {
				t.Fatalf("resolveSSHTarget: %v", err)
			}
			want := defaults()
			tt.want(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("resolveSSHTarget =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestResolveSSHTargetErrors(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]any
		wantErr string
	}{
		{"port not a number", map[string]any{"ansible_port": "ssh"}, `bad port "ssh": want a number from 1 to 65535`},
		{"port out of range", map[string]any{"ansible_port": 70000}, `bad port "70000"`},
		{"ProxyCommand", map[string]any{"ansible_ssh_common_args": `-o ProxyCommand="ssh -W %h:%p b"`},
			"ssh option ProxyCommand is not supported: use ProxyJump (-J) instead"},
		{"StrictHostKeyChecking", map[string]any{"ansible_ssh_common_args": "-o StrictHostKeyChecking=maybe"},
			`ssh option StrictHostKeyChecking: unknown value "maybe"`},
		{"unterminated quote", map[string]any{"ansible_ssh_extra_args": `-o "User=bob`},
			`ansible_ssh_extra_args: unterminated quote in "-o \"User=bob"`},
		{"missing argument", map[string]any{"ansible_ssh_common_args": "-o"}, "ansible_ssh_common_args: ssh option -o needs an argument"},
		{"option without a value", map[string]any{"ansible_ssh_common_args": "-o =x"}, `ssh option -o "=x": want Name=value`},
		{"timeout", map[string]any{"ansible_ssh_timeout": "soon"}, `ansible_ssh_timeout: "soon" is not a positive number of seconds`},
		{"host key checking", map[string]any{"ansible_host_key_checking": "maybe"}, `ansible_host_key_checking: "maybe" is not a boolean`},
		{"bad jump host", map[string]any{"ansible_ssh_common_args": "-J u@:22"}, `ssh option ProxyJump "u@:22": bad jump host ":22"`},
		{"keepalive", map[string]any{"ansible_ssh_common_args": "-o ServerAliveCountMax=0"}, "ServerAliveCountMax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolveSSHTarget("web1", tt.vars, SSHOptions{})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolveSSHTarget = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestSplitShellWords pins the splitting of Python's shlex.split, which Ansible applies to
// ssh arguments.
func TestSplitShellWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  -o  A=b\t-C ", []string{"-o", "A=b", "-C"}},
		{`-o 'a b' "c d" e\ f`, []string{"-o", "a b", "c d", "e f"}},
		{`x"y z"'w'`, []string{"xy zw"}},
		{`"a \" \\ \x"`, []string{`a " \ \x`}},
		{`'a \" b'`, []string{`a \" b`}},
		{`''`, []string{""}},
		{`"\$x"`, []string{`\$x`}},
	}
	for _, tt := range tests {
		got, err := splitShellWords(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitShellWords(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{`'a`, `"a`, `a\`} {
		if _, err := splitShellWords(bad); err == nil {
			t.Errorf("splitShellWords(%q) succeeded, want an error", bad)
		}
	}
}

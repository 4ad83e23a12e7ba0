package connection

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/tallyrun/tally/host/connection/sshtest"
)

// TestVerboseReportsCommandsAndHidesThemUnderNoLog pins the -vvv lines of a connection: the
// command line and its exit status, with the command and output censored under no_log.
func TestVerboseReportsCommandsAndHidesThemUnderNoLog(t *testing.T) {
	for _, censored := range []bool{false, true} {
		t.Run(fmt.Sprint("censored=", censored), func(t *testing.T) {
			var lines []string
			c := Verbose(NewLocal("web1"), func(msg string) { lines = append(lines, msg) }, censored)
			if _, err := c.Exec(context.Background(), Command{Cmd: "echo secret; exit 3"}); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(lines, "\n")
			want := []string{"<web1> EXEC /bin/sh -c 'echo secret; exit 3'", "<web1> rc=3, stdout 7 bytes, stderr 0 bytes"}
			if censored {
				want = []string{"<web1> EXEC (command censored due to no log)", "<web1> rc=3, stdout and stderr censored due to no log"}
			}
			if got != strings.Join(want, "\n") {
				t.Errorf("lines:\n%s\nwant\n%s", got, strings.Join(want, "\n"))
			}
		})
	}
}

func TestEndpointNamesUserAndPort(t *testing.T) {
	t.Parallel()
	srv := sshtest.Start(t, sshtest.Options{})
	e := dialServer(t, srv, "", nil, SSHOptions{}).Endpoint()
	want := fmt.Sprintf("<%s> ESTABLISH SSH CONNECTION FOR USER: %s (port %d)", srv.Host, srv.User, srv.Port)
	if got := e.Established(); got != want {
		t.Errorf("Established() = %q, want %q", got, want)
	}
}

// Command jsonl is an aggregate plugin that writes every event of a run, one JSON object a line
// as docs/events.md describes it (the same lines as --artifacts' events.jsonl), to
// <job_id>.jsonl in its granted directory: ansible.posix.jsonl, with tally's job ID, seq and
// parent links.
//
// Options: dir (required), the directory it may write to.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tallyrun/tally/pluginsdk"
	"github.com/tallyrun/tally/pluginsdk/event"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

var metadata = meta.Metadata{
	Name:        "jsonl",
	Version:     "1.0.0",
	Type:        meta.Aggregate,
	Description: "every event, one JSON object a line, to <job_id>.jsonl in its directory",
	Options: []meta.Option{
		{Name: "dir", Type: meta.Dir, Env: []string{"TALLY_JSONL_DIR"}, Required: true,
			Description: "the directory of the <job_id>.jsonl files"},
	},
}

type plugin struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
}

func (p *plugin) Configure(c *pluginsdk.Config) error {
	f, err := os.OpenFile(filepath.Join(c.String("dir"), c.JobID+".jsonl"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open the events file: %w", err)
	}
	p.f, p.w = f, bufio.NewWriterSize(f, 64<<10)
	p.enc = json.NewEncoder(p.w)
	return nil
}

func (p *plugin) Event(e *event.Event) error {
	if err := p.enc.Encode(e); err != nil {
		return fmt.Errorf("write event %d: %w", e.Seq, err)
	}
	if e.Event == event.PlaybookOnStats {
		return p.w.Flush() // the run is over: the file is whole even if close never comes
	}
	return nil
}

func (p *plugin) Close() error {
	if p.f == nil {
		return nil
	}
	err := p.w.Flush()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

func init() { pluginsdk.Register(metadata, &plugin{}) }

func main() {}

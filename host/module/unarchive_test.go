package module

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// archiveFiles are the files of the test archives.
var archiveFiles = map[string]string{"a.txt": "one\n", "d/b.txt": "two\n"}

// writeArchives writes archive.tar.gz, archive.tar and archive.zip of archiveFiles in dir.
func writeArchives(t *testing.T, dir string) {
	t.Helper()
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range archiveFiles {
			if !yield(k) {
				return
			}
		}
	})
	writeTar := func(w io.Writer) {
		tw := tar.NewWriter(w)
		tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
		for _, n := range names {
			tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(archiveFiles[n]))})
			io.WriteString(tw, archiveFiles[n])
		}
		if err := tw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	create := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	writeTar(create("archive.tar"))
	gz := gzip.NewWriter(create("archive.tar.gz"))
	writeTar(gz)
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(create("archive.zip"))
	zw.Create("d/")
	for _, n := range names {
		w, _ := zw.Create(n)
		io.WriteString(w, archiveFiles[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestUnarchive(t *testing.T) {
	archives := t.TempDir()
	writeArchives(t, archives)
	for _, tt := range []struct {
		archive, handler string
		remote           bool
	}{
		{"archive.tar.gz", "TgzArchive", false},
		{"archive.tar", "TarArchive", true},
		{"archive.zip", "ZipArchive", true},
		{"archive.zip", "ZipArchive", false},
	} {
		t.Run(tt.archive, func(t *testing.T) {
			dest := t.TempDir()
			args := map[string]any{"src": filepath.Join(archives, tt.archive), "dest": dest, "remote_src": tt.remote}
			dry := newTask(t)
			dry.Check = true
			want := map[string]any{"changed": true, "handler": tt.handler, "extract_results": nil}
			if tt.handler != "ZipArchive" {
				want = map[string]any{"changed": false, "skipped": true, "msg": "remote module (unarchive) does not support check mode when using gtar"}
			}
			check(t, run(t, dry, "unarchive", args), want)
			if entries, _ := os.ReadDir(dest); len(entries) > 0 {
				t.Fatalf("check mode extracted %v", entries)
			}
			r := run(t, newTask(t), "unarchive", args)
			check(t, r, map[string]any{"changed": true, "handler": tt.handler, "dest": dest, "state": "directory"})
			if res, _ := r["extract_results"].(map[string]any); res["rc"] != 0 {
				t.Errorf("extract_results = %v", r["extract_results"])
			}
			for name, data := range archiveFiles {
				if got := readFile(t, filepath.Join(dest, name)); got != data {
					t.Errorf("%s holds %q", name, got)
				}
			}
			args["list_files"] = true
			check(t, run(t, newTask(t), "unarchive", args), map[string]any{"changed": false, "extract_results": nil})
			writeFile(t, filepath.Join(dest, "a.txt"), "changed\n", 0o644)
			check(t, run(t, newTask(t), "unarchive", args), map[string]any{"changed": true})
			if got := readFile(t, filepath.Join(dest, "a.txt")); got != "one\n" {
				t.Errorf("a.txt holds %q after a second extraction", got)
			}
		})
	}
	dest := t.TempDir()
	for _, tt := range []struct {
		args map[string]any
		want map[string]any
	}{
		{map[string]any{"src": archives + "/archive.tar", "dest": dest, "creates": archives},
			map[string]any{"changed": false, "skipped": true, "msg": "skipped, since " + archives + " exists"}},
		{map[string]any{"src": archives + "/archive.tar", "dest": dest + "/nope"},
			map[string]any{"failed": true, "msg": "dest '" + dest + "/nope' must be an existing dir"}},
		{map[string]any{"src": archives + "/nope.tar", "dest": dest, "remote_src": true},
			map[string]any{"failed": true, "msg": "Source '" + archives + "/nope.tar' does not exist"}},
		{map[string]any{"src": "data.txt", "dest": dest},
			map[string]any{"failed": true}},
	} {
		check(t, run(t, newTask(t), "unarchive", tt.args), tt.want)
	}
	r := run(t, newTask(t), "unarchive", map[string]any{"src": archives + "/archive.tar", "dest": dest, "list_files": true})
	if want := []any{"d/", "a.txt", "d/b.txt"}; !slices.Equal(r["files"].([]any), want) {
		t.Errorf("files = %v, want %v", r["files"], want)
	}
}

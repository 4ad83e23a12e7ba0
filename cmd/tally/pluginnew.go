package main

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/pflag"

	"github.com/tallyrun/tally"
	"github.com/tallyrun/tally/pluginsdk/meta"
)

// scaffold holds the files of a new plugin project, by language, as templates.
//
//go:embed scaffold
var scaffold embed.FS

const pluginUsage = `Usage:
  tally plugin new NAME [--lang go|c] [--dir DIR]   make a plugin project that builds as it is

Flags:
%s`

// pluginCommand runs tally plugin and returns the exit code.
func pluginCommand(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("tally plugin", pflag.ContinueOnError)
	lang := fs.String("lang", "go", "the plugin's language: go (with tally's SDK) or c")
	dir := fs.String("dir", "", "the project's directory (default: ./NAME); it must not exist")
	fs.Usage = func() { fmt.Fprintf(stderr, pluginUsage, fs.FlagUsages()) }
	if rc, done := parseFlags(fs, args, stderr); done {
		return rc
	}
	if fs.NArg() != 2 || fs.Arg(0) != "new" {
		return usageFailed(fs, errors.New("want: new NAME"), stderr)
	}
	name := fs.Arg(1)
	if *dir == "" {
		*dir = name
	}
	if err := newPlugin(name, *lang, *dir); errors.As(err, new(usageError)) {
		return usageFailed(fs, err, stderr)
	} else if err != nil {
		errorf(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "made %s, a %s plugin, in %s: run make there, then tally run --callback-path %s --callbacks %s ...\n", name, *lang, *dir, *dir, name)
	return 0
}

// newPlugin writes the project of plugin name in language lang into dir, which must not exist.
func newPlugin(name, lang, dir string) error {
	if err := meta.ValidName(name); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	if lang != "go" && lang != "c" {
		return usagef("plugin new: --lang %q: want go or c", lang)
	}
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("plugin new: %s already exists", dir)
	}
	data := struct{ Name, Lang, EnvPrefix string }{name, lang, meta.EnvPrefix(name)}
	files := map[string]string{"README.md": "scaffold/README.md.tmpl"}
	entries, err := scaffold.ReadDir("scaffold/" + lang)
	if err != nil {
		return err
	}
	for _, e := range entries {
		files[strings.TrimSuffix(e.Name(), ".tmpl")] = "scaffold/" + lang + "/" + e.Name()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plugin new: %w", err)
	}
	for out, src := range files {
		text, err := scaffold.ReadFile(src)
		if err != nil {
			return err
		}
		t, err := template.New(out).Parse(string(text))
		if err != nil {
			return fmt.Errorf("plugin new: template %s: %w", src, err)
		}
		f, err := os.Create(filepath.Join(dir, out))
		if err != nil {
			return fmt.Errorf("plugin new: %w", err)
		}
		err = t.Execute(f, data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("plugin new: write %s: %w", out, err)
		}
	}
	if lang == "go" {
		return copySDK(filepath.Join(dir, "third_party", "tally"))
	}
	header, err := tally.SDK.ReadFile("pluginsdk/c/tally.h")
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "tally.h"), header, 0o644)
	}
	if err != nil {
		return fmt.Errorf("plugin new: copy tally.h: %w", err)
	}
	return nil
}

// copySDK writes tally's plugin SDK into dir as a module of its own, without the tests.
func copySDK(dir string) error {
	err := fs.WalkDir(tally.SDK, "pluginsdk", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "/testdata/") {
			return err
		}
		data, err := tally.SDK.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module github.com/tallyrun/tally\n\ngo 1.26\n"), 0o644)
	}
	if err != nil {
		return fmt.Errorf("plugin new: copy the SDK: %w", err)
	}
	return nil
}

// Package cli holds what every binary's main does the same way: flags that
// also read environment variables, a --help that lists both, slog setup,
// and for binaries made of subcommands (`seeder create`, `loadtest swarm`)
// the dispatch, interspersed flag parsing, usage and exit statuses.
package cli

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// EnvName is the environment variable that sets flag name for a binary
// whose variables start with prefix: "http-addr" with "TRACKER" is
// TRACKER_HTTP_ADDR.
func EnvName(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// ApplyEnv sets every flag of fs that is not given on the command line from
// its environment variable, if that is set. Call it after fs.Parse, so that
// the command line wins over the environment.
func ApplyEnv(fs *flag.FlagSet, prefix string, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		env := EnvName(prefix, f.Name)
		if v, ok := lookup(env); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment %s=%q: %w", env, v, e)
			}
		}
	})
	return err
}

// Usage returns a flag.Usage that prints a synopsis, each flag with its
// default and environment variable, and a closing text.
func Usage(fs *flag.FlagSet, prefix, synopsis, after string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintln(w, strings.TrimSpace(synopsis))
		fmt.Fprintln(w, "\nFlags (each can also be set by the environment variable shown):")
		fs.VisitAll(func(f *flag.Flag) {
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(w, "  --%s", f.Name)
			if name != "" {
				fmt.Fprintf(w, " %s", name)
			}
			fmt.Fprintf(w, "\n        %s", strings.ReplaceAll(usage, "\n", "\n        "))
			if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
				fmt.Fprintf(w, " (default %s)", f.DefValue)
			}
			fmt.Fprintf(w, "\n        env %s\n", EnvName(prefix, f.Name))
		})
		if after != "" {
			fmt.Fprintln(w, "\n"+strings.TrimSpace(after))
		}
	}
}

// Logger builds the process logger from a level (debug, info, warn, error)
// and a format (text or json).
func Logger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}

// Fatal prints err for a human and exits with status 1.
func Fatal(log *slog.Logger, msg string, err error) {
	if log != nil {
		log.Error(msg, "err", err)
	} else {
		fmt.Fprintf(os.Stderr, "%s: %v\n", msg, err)
	}
	os.Exit(1)
}

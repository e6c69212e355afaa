package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/bitorigin/bitorigin/internal/cli"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// envPrefix starts the environment variable of every flag:
// LOADTEST_RATE sets --rate.
const envPrefix = "LOADTEST"

// subcommand is one `loadtest CMD`: its flags, how many positional
// arguments it takes, and what it does with them.
type subcommand struct {
	name    string
	args    string // positional arguments for the usage line, e.g. "URL"
	summary string // one line for `loadtest --help`
	help    string // paragraphs for `loadtest CMD --help`, before the flags
	nargs   int
	flags   *flag.FlagSet
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func newSubcommand(name, args string, nargs int, summary, help string) *subcommand {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed by main
	return &subcommand{name: name, args: args, nargs: nargs, summary: summary, help: help, flags: fs}
}

// main parses the command's arguments and the environment and runs it,
// returning the exit status.
func (c *subcommand) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pos, err := parseInterspersed(c.flags, args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout)
		return exitOK
	}
	if err == nil && len(pos) != c.nargs {
		err = fmt.Errorf("want %d argument(s) (%s), got %d", c.nargs, c.args, len(pos))
	}
	if err == nil {
		err = cli.ApplyEnv(c.flags, envPrefix, os.LookupEnv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest %s: %v\nRun 'loadtest %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	if err := c.run(ctx, pos, stdout, stderr); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "loadtest %s: %v\nRun 'loadtest %s --help' for usage.\n", c.name, err, c.name)
			return exitUsage
		}
		fmt.Fprintf(stderr, "loadtest %s: %v\n", c.name, err)
		return exitFailure
	}
	return exitOK
}

func (c *subcommand) usage(w io.Writer) {
	synopsis := strings.TrimSpace(c.name + " " + c.args + " [FLAGS]")
	fmt.Fprintf(w, "Usage: loadtest %s\n\n%s\n\nFlags (each can also be set by the environment variable shown):\n",
		synopsis, strings.TrimSpace(c.help))
	c.flags.VisitAll(func(f *flag.Flag) {
		arg, text := flag.UnquoteUsage(f)
		s := "--" + f.Name
		if arg != "" {
			s += " " + arg
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %s\n      %s\n      env %s\n", s, text, cli.EnvName(envPrefix, f.Name))
	})
}

// usageError is a mistake in the command line found after flag parsing;
// it exits with exitUsage like a flag error.
type usageError struct{ error }

// parseInterspersed parses flags before, between and after positional
// arguments, so `loadtest tracker URL --rate 100` works as the usage line
// reads. Everything after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseSize reads a byte count written as digits with an optional binary
// suffix: 16384, 16K, 16KiB, 1M.
func parseSize(v string) (int64, error) {
	num := strings.TrimRight(v, "KMkmiB")
	shift := 0
	switch strings.ToUpper(v[len(num):]) {
	case "", "B":
	case "K", "KIB":
		shift = 10
	case "M", "MIB":
		shift = 20
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use K or M, powers of 1024)", v, v[len(num):])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > 1<<30 {
		return 0, fmt.Errorf("size %q: want a positive whole number of bytes, optionally with K or M", v)
	}
	return n << shift, nil
}

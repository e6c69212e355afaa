package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// subcommand is one `seeder CMD`: its flags, how many positional arguments
// it takes, and what it does with them.
type subcommand struct {
	name    string
	args    string // positional arguments for the usage line, e.g. "PATH"
	summary string // one line for `seeder --help`
	help    string // paragraphs for `seeder CMD --help`, before the flags
	nargs   int
	flags   *flag.FlagSet
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func newSubcommand(name, args string, nargs int, summary, help string) *subcommand {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed by main
	return &subcommand{name: name, args: args, nargs: nargs, summary: summary, help: help, flags: fs}
}

// main parses the command's arguments and runs it, returning the exit status.
func (c *subcommand) main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	pos, err := parseInterspersed(c.flags, args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout)
		return exitOK
	}
	if err == nil && len(pos) != c.nargs {
		err = fmt.Errorf("want %d argument(s) (%s), got %d", c.nargs, c.args, len(pos))
	}
	if err != nil {
		fmt.Fprintf(stderr, "seeder %s: %v\nRun 'seeder %s --help' for usage.\n", c.name, err, c.name)
		return exitUsage
	}
	if err := c.run(ctx, pos, stdout, stderr); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintf(stderr, "seeder %s: %v\nRun 'seeder %s --help' for usage.\n", c.name, err, c.name)
			return exitUsage
		}
		fmt.Fprintf(stderr, "seeder %s: %v\n", c.name, err)
		return exitFailure
	}
	return exitOK
}

func (c *subcommand) usage(w io.Writer) {
	synopsis := c.name + " " + c.args
	if hasFlags(c.flags) {
		synopsis += " [FLAGS]"
	}
	fmt.Fprintf(w, "Usage: seeder %s\n\n%s\n", synopsis, strings.TrimSpace(c.help))
	first := true
	c.flags.VisitAll(func(f *flag.Flag) {
		if first {
			fmt.Fprintf(w, "\nFlags:\n")
			first = false
		}
		fmt.Fprintf(w, "  %s\n      %s\n", flagSynopsis(f), usageText(f))
	})
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// flagSynopsis writes one-letter flags with one dash and long ones with
// two, as people type them; Go's flag package accepts either.
func flagSynopsis(f *flag.Flag) string {
	dash := "--"
	if len(f.Name) == 1 {
		dash = "-"
	}
	s := dash + f.Name
	if arg, _ := flag.UnquoteUsage(f); arg != "" {
		s += " " + arg
	}
	return s
}

func usageText(f *flag.Flag) string {
	_, text := flag.UnquoteUsage(f)
	return text
}

// usageError is a mistake in the command line found after flag parsing;
// it exits with exitUsage like a flag error.
type usageError struct{ error }

// parseInterspersed parses flags before, between and after positional
// arguments, so `seeder create PATH -t URL` works as the usage line reads.
// Everything after "--" is positional.
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

// listFlag collects every use of a repeatable flag; each use may hold
// several comma-separated values.
type listFlag [][]string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	var uses []string
	for _, use := range *l {
		uses = append(uses, strings.Join(use, ","))
	}
	return strings.Join(uses, " ")
}

func (l *listFlag) Set(s string) error {
	var use []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			use = append(use, v)
		}
	}
	if len(use) == 0 {
		return errors.New("empty value")
	}
	*l = append(*l, use)
	return nil
}

func (l listFlag) flat() []string {
	var all []string
	for _, use := range l {
		all = append(all, use...)
	}
	return all
}

// sizeFlag is a byte count written as digits with an optional binary
// suffix: 262144, 256K, 256KiB, 1M, 1MiB, 1G.
type sizeFlag int64

func (s *sizeFlag) String() string {
	if s == nil || *s == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

func parseSize(v string) (int64, error) {
	num := strings.TrimRight(v, "KMGIBkmgib")
	suffix := strings.ToUpper(v[len(num):])
	shift := 0
	switch suffix {
	case "", "B":
	case "K", "KIB":
		shift = 10
	case "M", "MIB":
		shift = 20
	case "G", "GIB":
		shift = 30
	default:
		return 0, fmt.Errorf("size %q: unknown unit %q (use K, M or G, powers of 1024)", v, v[len(num):])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive whole number of bytes, optionally with K, M or G", v)
	}
	if n > (1<<62)>>shift {
		return 0, fmt.Errorf("size %q: too large", v)
	}
	return n << shift, nil
}

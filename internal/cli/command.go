package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses of a Program.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Command is one `PROGRAM CMD`: its flags, how many positional arguments it
// takes, and what it does with them.
type Command struct {
	Name    string
	Args    string // positional arguments for the usage line, e.g. "PATH"
	NArgs   int    // how many positional arguments Run gets; more or fewer is a usage error
	Summary string // one line for `PROGRAM --help`
	Help    string // paragraphs for `PROGRAM CMD --help`, before the flags
	Flags   *flag.FlagSet
	Run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error

	// EnvPrefix, when set, makes every flag not given on the command line
	// read its environment variable (see ApplyEnv), and the usage show
	// each flag's variable.
	EnvPrefix string
}

// NewCommand returns a Command with an empty flag set that reports nothing
// itself: errors and help are printed by Program.Main.
func NewCommand(name, args string, nargs int, summary, help string) *Command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Command{Name: name, Args: args, NArgs: nargs, Summary: summary, Help: help, Flags: fs}
}

// UsageError is a mistake in the command line found after flag parsing,
// returned by a Command's Run; it exits with ExitUsage like a flag error.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }

// Unwrap returns the mistake.
func (e UsageError) Unwrap() error { return e.Err }

// Program is a binary made of subcommands: `NAME CMD [ARGS] [FLAGS]`.
type Program struct {
	Name     string
	Commands []*Command // in the order --help lists them
}

// Main executes one command line and returns the exit status: ExitOK on
// success, ExitFailure when the command failed, ExitUsage for a usage
// error.
func (p Program) Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		p.usage(stderr)
		return ExitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		p.usage(stdout)
		return ExitOK
	}
	for _, c := range p.Commands {
		if c.Name == args[0] {
			return c.main(ctx, p.Name, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "%s: unknown command %q\n\n", p.Name, args[0])
	p.usage(stderr)
	return ExitUsage
}

func (p Program) usage(w io.Writer) {
	// Names padded to the longest plus a space, and never narrower than 8.
	width := 8
	for _, c := range p.Commands {
		width = max(width, len(c.Name)+1)
	}
	fmt.Fprintf(w, "Usage: %s COMMAND [ARGS] [FLAGS]\n", p.Name)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range p.Commands {
		fmt.Fprintf(w, "  %-*s %s\n", width, c.Name, c.Summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Run '%s COMMAND --help' for a command's arguments and flags.\n", p.Name)
	fmt.Fprintln(w, "Exit status: 0 on success, 1 when the command fails, 2 for a usage error.")
}

// main parses the command's arguments (and the environment, with an
// EnvPrefix) and runs it, returning the exit status.
func (c *Command) main(ctx context.Context, prog string, args []string, stdout, stderr io.Writer) int {
	pos, err := ParseInterspersed(c.Flags, args)
	if errors.Is(err, flag.ErrHelp) {
		c.usage(stdout, prog)
		return ExitOK
	}
	if err == nil && len(pos) != c.NArgs {
		err = fmt.Errorf("want %d argument(s) (%s), got %d", c.NArgs, c.Args, len(pos))
	}
	if err == nil && c.EnvPrefix != "" {
		err = ApplyEnv(c.Flags, c.EnvPrefix, os.LookupEnv)
	}
	if err == nil {
		err = c.Run(ctx, pos, stdout, stderr)
		if err == nil {
			return ExitOK
		}
		if !errors.As(err, new(UsageError)) {
			fmt.Fprintf(stderr, "%s %s: %v\n", prog, c.Name, err)
			return ExitFailure
		}
	}
	fmt.Fprintf(stderr, "%s %s: %v\nRun '%s %s --help' for usage.\n", prog, c.Name, err, prog, c.Name)
	return ExitUsage
}

func (c *Command) usage(w io.Writer, prog string) {
	n := 0
	c.Flags.VisitAll(func(*flag.Flag) { n++ })
	synopsis := c.Name + " " + c.Args
	if n > 0 {
		synopsis += " [FLAGS]"
	}
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n", prog, strings.TrimSpace(synopsis), strings.TrimSpace(c.Help))
	if n == 0 {
		return
	}
	if c.EnvPrefix != "" {
		fmt.Fprintf(w, "\nFlags (each can also be set by the environment variable shown):\n")
	} else {
		fmt.Fprintf(w, "\nFlags:\n")
	}
	c.Flags.VisitAll(func(f *flag.Flag) {
		_, text := flag.UnquoteUsage(f)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			text += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %s\n      %s\n", FlagSynopsis(f), text)
		if c.EnvPrefix != "" {
			fmt.Fprintf(w, "      env %s\n", EnvName(c.EnvPrefix, f.Name))
		}
	})
}

// FlagSynopsis is how a Command's usage writes a flag and its argument:
// one-letter flags with one dash and long ones with two, as people type
// them (Go's flag package accepts either).
func FlagSynopsis(f *flag.Flag) string {
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

// ParseInterspersed parses flags before, between and after positional
// arguments, so `seeder create PATH -t URL` works as the usage line reads,
// and returns the positional arguments. Everything after "--" is
// positional.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
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

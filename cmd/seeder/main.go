// Command seeder is bitorigin's origin seeder and its torrent tools:
// `seeder serve` seeds a content folder, `seeder create` makes a .torrent
// of a file or folder, `seeder info` shows one, and `seeder verify` checks
// data on disk against one.
//
// Run `seeder --help` for the subcommands and `seeder CMD --help` for a
// subcommand's flags.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// A first Ctrl-C cancels the work in progress (hashing stops, nothing
	// half-written is left behind); a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// subcommands lists what `seeder CMD` accepts, in the order help shows them.
// A new subcommand is one file defining its constructor plus a line here.
func subcommands() []*subcommand {
	return []*subcommand{
		createCommand(),
		infoCommand(),
		verifyCommand(),
		serveCommand(),
	}
}

// run executes one command line and returns the exit status: 0 on success,
// 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := subcommands()
	if len(args) == 0 {
		usage(stderr, cmds)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout, cmds)
		return exitOK
	}
	for _, c := range cmds {
		if c.name == args[0] {
			return c.main(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "seeder: unknown command %q\n\n", args[0])
	usage(stderr, cmds)
	return exitUsage
}

func usage(w io.Writer, cmds []*subcommand) {
	fmt.Fprintln(w, "Usage: seeder COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'seeder COMMAND --help' for a command's arguments and flags.")
	fmt.Fprintln(w, "Exit status: 0 on success, 1 when the command fails, 2 for a usage error.")
}

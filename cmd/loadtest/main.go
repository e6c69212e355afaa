// Command loadtest drives bitorigin's servers, or anyone's, with load:
// `loadtest tracker` sends announces and scrapes to an HTTP or UDP tracker,
// `loadtest swarm` downloads a torrent from a seeder with many simulated
// leechers, and `loadtest infohashes` prints the info hashes a tracker
// run uses, for trackers that serve only listed torrents.
//
// Run `loadtest --help` for the subcommands and `loadtest CMD --help` for
// a subcommand's flags.
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
	// A first Ctrl-C ends the run early and still prints the report of
	// what was measured; a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// subcommands lists what `loadtest CMD` accepts, in the order help shows
// them.
func subcommands() []*subcommand {
	return []*subcommand{
		trackerCommand(),
		swarmCommand(),
		infohashesCommand(),
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
	fmt.Fprintf(stderr, "loadtest: unknown command %q\n\n", args[0])
	usage(stderr, cmds)
	return exitUsage
}

func usage(w io.Writer, cmds []*subcommand) {
	fmt.Fprintln(w, "Usage: loadtest COMMAND [ARGS] [FLAGS]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'loadtest COMMAND --help' for a command's arguments and flags.")
	fmt.Fprintln(w, "Exit status: 0 on success, 1 when the command fails, 2 for a usage error.")
}

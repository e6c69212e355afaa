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
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bitorigin/bitorigin/internal/cli"
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
func subcommands() []*cli.Command {
	return []*cli.Command{
		createCommand(),
		infoCommand(),
		verifyCommand(),
		serveCommand(),
	}
}

// run executes one command line and returns the exit status: 0 on success,
// 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Program{Name: "seeder", Commands: subcommands()}.Main(ctx, args, stdout, stderr)
}

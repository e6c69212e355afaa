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
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/bitorigin/bitorigin/internal/cli"
)

func main() {
	// A first Ctrl-C ends the run early and still prints the report of
	// what was measured; a second one kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// envPrefix starts the environment variable of every flag:
// LOADTEST_RATE sets --rate.
const envPrefix = "LOADTEST"

// subcommands lists what `loadtest CMD` accepts, in the order help shows
// them.
func subcommands() []*cli.Command {
	cmds := []*cli.Command{
		trackerCommand(),
		swarmCommand(),
		infohashesCommand(),
	}
	for _, c := range cmds {
		c.EnvPrefix = envPrefix
	}
	return cmds
}

// run executes one command line and returns the exit status: 0 on success,
// 1 when the command failed, 2 for a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return cli.Program{Name: "loadtest", Commands: subcommands()}.Main(ctx, args, stdout, stderr)
}

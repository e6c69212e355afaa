package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/loadtest/trackerload"
)

func infohashesCommand() *cli.Command {
	c := cli.NewCommand("infohashes", "", 0, "print the info hashes 'loadtest tracker' announces", `
Prints the info hashes that 'loadtest tracker' with the same --torrents and
--seed announces, in hex, one per line: the allow list of a tracker that
serves only listed torrents (opentracker's whitelist, our --allow-list).`)
	var torrents int
	var seed uint64
	c.Flags.IntVar(&torrents, "torrents", 1000, "number of torrents `N`")
	c.Flags.Uint64Var(&seed, "seed", 1, "`N`, as given to 'loadtest tracker'")
	c.Run = func(_ context.Context, _ []string, stdout, _ io.Writer) error {
		if torrents < 1 || torrents > 10_000_000 {
			return cli.UsageError{Err: fmt.Errorf("--torrents %d: want 1 to 10000000", torrents)}
		}
		if seed == 0 {
			seed = 1 // as 'loadtest tracker' reads 0
		}
		w := bufio.NewWriter(stdout)
		for _, h := range trackerload.InfoHashes(torrents, seed) {
			w.WriteString(hex.EncodeToString(h[:]))
			w.WriteByte('\n')
		}
		return w.Flush()
	}
	return c
}

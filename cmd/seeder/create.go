package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
)

func createCommand() *cli.Command {
	c := cli.NewCommand("create", "PATH", 1, "make a .torrent of a file or folder", `
Hashes the file or folder at PATH on every core and writes a .torrent, then
prints its info hash and magnet link. A v1 torrent takes a folder's files
in path order, as mktorrent takes them: the same data and piece length
always give the same info hash, and the one mktorrent gives.

The torrent is BitTorrent v1 unless --hybrid or --v2 says otherwise,
because every client reads v1: Transmission 3.00 refuses v2 and hybrid
torrents, and aria2 1.36 computes a wrong info hash for hybrid ones (both
are what Debian bookworm ships). --hybrid adds BEP 52's v2 file tree and
SHA-256 merkle hashes to the v1 torrent, with padding files so that every
file starts a piece, for v1 and v2 clients alike; --v2 writes only the v2
part, for v2 clients (libtorrent 2) only. Both take a folder's files in
file tree order (component by component) and print the v2 info hash too;
v2 peers and trackers use its first 40 hex digits where a v1 info hash
goes. seeder serve seeds all three (a hybrid under both hashes).

Trackers are grouped in tiers (BEP 12): each -t starts a new tier, tried
only when the ones before it fail; URLs joined by commas in one -t form one
tier, whose trackers clients try in random order:
  seeder create ./release -t http://a/announce,http://b/announce -t udp://c:6969
makes tier 1 = a, b and tier 2 = c.

File and folder names must be valid UTF-8, as BEP 3 asks: a name in another
encoding is refused, not converted, because a converted name would match no
file on disk (the torrent could not be served or verified from PATH).
Rename it first.`)
	var (
		trackers, webSeeds   listFlag
		pieceLength          sizeFlag
		private, noDate      bool
		force, hybrid, v2    bool
		comment, source, out string
	)
	f := c.Flags
	f.Var(&trackers, "t", "tracker announce `URL` (http, https or udp); repeat for more tiers, commas within one tier; at least one")
	f.Var(&webSeeds, "w", "web seed `URL` (BEP 19); repeat or separate with commas for several")
	f.Var(&pieceLength, "piece-length", "piece length in bytes, `SIZE` a power of two from 16K to 256M written as 262144, 256K or 1M (default: chosen for 1,000 to 2,000 pieces, 256K to 16M)")
	f.BoolVar(&private, "private", false, "set the private flag (BEP 27): peers come only from the trackers")
	f.StringVar(&comment, "comment", "", "comment `TEXT` stored in the torrent")
	f.StringVar(&source, "source", "", "source `TEXT` stored in the info dictionary (changes the info hash; some private trackers require it)")
	f.BoolVar(&noDate, "no-date", false, "leave out the creation date, so the same data gives a byte-identical file")
	f.StringVar(&out, "o", "", "write the torrent to `FILE` (default: NAME.torrent in the current folder)")
	f.BoolVar(&force, "force", false, "overwrite the output file if it exists")
	f.BoolVar(&hybrid, "hybrid", false, "make a hybrid v1 + v2 torrent (BEP 52 with BEP 47 padding); not for Transmission 3.00 or aria2 1.36")
	f.BoolVar(&v2, "v2", false, "make a v2-only torrent (BEP 52), for v2 clients such as libtorrent 2 only")

	c.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		path := args[0]
		if len(trackers) == 0 {
			return cli.UsageError{Err: errors.New("at least one -t tracker URL is required")}
		}
		if hybrid && v2 {
			return cli.UsageError{Err: errors.New("--hybrid and --v2 exclude each other")}
		}
		if out == "" {
			abs, err := filepath.Abs(path)
			if err != nil {
				return err
			}
			out = filepath.Base(abs) + ".torrent"
		}
		// Refuse before hashing, which can take minutes, not after.
		if !force {
			if _, err := os.Lstat(out); err == nil {
				return fmt.Errorf("%s already exists (use --force to overwrite)", out)
			}
		}
		opts := metainfo.CreateOptions{
			Trackers:    trackers,
			WebSeeds:    webSeeds.flat(),
			PieceLength: int64(pieceLength),
			Private:     private,
			Comment:     comment,
			Source:      source,
			CreatedBy:   version.Name + "/" + version.Version,
		}
		switch {
		case hybrid:
			opts.Version = metainfo.Hybrid
		case v2:
			opts.Version = metainfo.V2
		}
		if !noDate {
			opts.CreationDate = time.Now()
		}
		bar := progress.New(stderr, "hashing")
		opts.Progress = bar.Update
		t, err := metainfo.Create(ctx, path, opts)
		bar.Finish()
		if err != nil {
			return err
		}
		data, err := t.Encode()
		if err != nil {
			return err
		}
		if err := writeFile(out, data, force); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "torrent:\t%s\n", out)
		writeInfoHashes(tw, t)
		fmt.Fprintf(tw, "magnet:\t%s\n", t.Magnet())
		return tw.Flush()
	}
	return c
}

// writeFile writes data to path through a temporary file in the same folder
// and renames it into place, so an interrupted run never leaves a truncated
// torrent. Without force it refuses to replace an existing file, even one
// that appeared while hashing.
func writeFile(path string, data []byte, force bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed or linked and removed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if force {
		return os.Rename(tmp.Name(), path)
	}
	// A hard link fails if path exists, where a rename would replace it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists (use --force to overwrite)", path)
		}
		return err
	}
	return nil
}

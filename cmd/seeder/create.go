package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/internal/version"
	"github.com/bitorigin/bitorigin/metainfo"
)

func createCommand() *cli.Command {
	c := cli.NewCommand("create", "PATH", 1, "make a .torrent of a file or folder", `
Hashes the file or folder at PATH on every core and writes a .torrent, then
prints its info hash and magnet link. A folder's files are taken in path
order, as mktorrent takes them: the same data and piece length always give
the same info hash, and the one mktorrent gives.

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
		force                bool
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

	c.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		path := args[0]
		if len(trackers) == 0 {
			return cli.UsageError{Err: errors.New("at least one -t tracker URL is required")}
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
		fmt.Fprintf(stdout, "torrent:   %s\n", out)
		fmt.Fprintf(stdout, "info hash: %s\n", t.InfoHash())
		fmt.Fprintf(stdout, "magnet:    %s\n", t.Magnet())
		return nil
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

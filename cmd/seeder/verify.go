package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/metainfo"
)

func verifyCommand() *cli.Command {
	c := cli.NewCommand("verify", "FILE.torrent DATA_DIR", 2, "check data on disk against a .torrent", `
Hashes every piece of the torrent's data in DATA_DIR, the folder that holds
the torrent's file or folder (as a client's download folder does), and
reports the files that are missing, short, unreadable or hold wrong data.
A v1 piece must match its SHA-1 hash; a v2 piece the SHA-256 merkle hash
of its file's piece layer, or its file's pieces root for a file of one
piece, after the piece layers are checked against every pieces root; a
hybrid piece both. Exits 0 only when every piece matches.`)
	c.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		t, err := metainfo.Load(args[0])
		if err != nil {
			return err
		}
		bar := progress.New(stderr, "verifying")
		res, err := metainfo.Verify(ctx, &t.Info, args[1], metainfo.VerifyOptions{PieceLayers: t.PieceLayers, Progress: bar.Update})
		bar.Finish()
		if err != nil {
			return err
		}
		return report(stdout, &t.Info, res)
	}
	return c
}

// report lists the files with problems and returns an error unless every
// piece matched.
func report(w io.Writer, info *metainfo.Info, res *metainfo.VerifyResult) error {
	for _, f := range res.Files {
		switch {
		case f.File.IsPadding() || f.Status == metainfo.FileOK:
		case f.Status == metainfo.FileLong:
			fmt.Fprintf(w, "warning: %s: %s (%d bytes on disk, %d expected)\n", f.Path, f.Status, f.Size, f.File.Length)
		case f.Status == metainfo.FileShort:
			fmt.Fprintf(w, "%s: short (%d of %d bytes)\n", f.Path, f.Size, f.File.Length)
		case f.Err != nil:
			fmt.Fprintf(w, "%s: %s: %v\n", f.Path, f.Status, f.Err)
		default:
			fmt.Fprintf(w, "%s: %s (%d bad pieces)\n", f.Path, f.Status, f.BadPieces)
		}
	}
	if len(res.Inconsistent) > 0 {
		fmt.Fprintf(w, "%d pieces match one of their v1 and v2 hashes but not the other (first: %d): the torrent is inconsistent\n",
			len(res.Inconsistent), res.Inconsistent[0])
	}
	n, good := info.NumPieces(), int(res.Have.Count())
	if res.Complete() {
		fmt.Fprintf(w, "all %d pieces OK (%s; %s)\n", n, progress.FormatSize(info.TotalLength()), hashKinds(info))
		return nil
	}
	fmt.Fprintf(w, "%d of %d pieces OK: %d hold wrong data, %d could not be read in full\n",
		good, n, len(res.Mismatched), n-good-len(res.Mismatched))
	return fmt.Errorf("verification failed: %d of %d pieces bad", n-good, n)
}

// hashKinds says which hashes verify checked.
func hashKinds(info *metainfo.Info) string {
	switch info.Version() {
	case metainfo.V2:
		return "v2 merkle hashes"
	case metainfo.Hybrid:
		return "SHA-1 and v2 merkle hashes"
	}
	return "SHA-1 hashes"
}

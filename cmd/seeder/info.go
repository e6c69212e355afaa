package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/progress"
	"github.com/bitorigin/bitorigin/metainfo"
)

func infoCommand() *cli.Command {
	c := cli.NewCommand("info", "FILE.torrent", 1, "show what a .torrent contains", `
Prints a torrent's name, version (v1, v2 or hybrid), info hashes, size,
piece length and count, files, trackers by tier, web seeds and magnet link.
A v1 or hybrid torrent has a v1 info hash (SHA-1), a v2 or hybrid one a v2
info hash (SHA-256, whose first 40 hex digits v2 peers and trackers use);
the magnet link carries each (xt=urn:btih and xt=urn:btmh).`)
	c.Run = func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		t, err := metainfo.Load(args[0])
		if err != nil {
			return err
		}
		writeInfo(stdout, t)
		return nil
	}
	return c
}

func writeInfo(w io.Writer, t *metainfo.Torrent) {
	in := &t.Info
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "name:\t%s\n", in.Name)
	fmt.Fprintf(tw, "version:\t%s\n", versionName(in.Version()))
	writeInfoHashes(tw, t)
	fmt.Fprintf(tw, "size:\t%s (%d bytes)\n", progress.FormatSize(in.TotalLength()), in.TotalLength())
	fmt.Fprintf(tw, "piece length:\t%s (%d bytes)\n", progress.FormatSize(in.PieceLength), in.PieceLength)
	fmt.Fprintf(tw, "pieces:\t%d\n", in.NumPieces())
	fmt.Fprintf(tw, "private:\t%s\n", yesNo(in.Private))
	if in.Source != "" {
		fmt.Fprintf(tw, "source:\t%s\n", in.Source)
	}
	if t.Comment != "" {
		fmt.Fprintf(tw, "comment:\t%s\n", t.Comment)
	}
	if t.CreatedBy != "" {
		fmt.Fprintf(tw, "created by:\t%s\n", t.CreatedBy)
	}
	if !t.CreationDate.IsZero() {
		fmt.Fprintf(tw, "created:\t%s\n", t.CreationDate.UTC().Format(time.RFC3339))
	}
	tw.Flush()

	files := in.FileList()
	fmt.Fprintf(w, "files (%d):\n", countFiles(files))
	for _, f := range files {
		if f.IsPadding() {
			continue
		}
		name := path.Join(append([]string{in.Name}, f.Path...)...)
		fmt.Fprintf(w, "  %10s  %s\n", progress.FormatSize(f.Length), name)
	}
	tiers := t.Trackers()
	fmt.Fprintf(w, "trackers (%d tiers):\n", len(tiers))
	for i, tier := range tiers {
		fmt.Fprintf(w, "  tier %d: %s\n", i+1, strings.Join(tier, " "))
	}
	fmt.Fprintf(w, "web seeds (%d):\n", len(t.WebSeeds))
	for _, u := range t.WebSeeds {
		fmt.Fprintf(w, "  %s\n", u)
	}
	fmt.Fprintf(w, "magnet: %s\n", t.Magnet())
}

// writeInfoHashes writes a line for each info hash the torrent has.
func writeInfoHashes(w io.Writer, t *metainfo.Torrent) {
	if h, ok := t.InfoHashV1(); ok {
		fmt.Fprintf(w, "info hash:\t%s\n", h)
	}
	if h, ok := t.InfoHashV2(); ok {
		fmt.Fprintf(w, "info hash v2:\t%s\n", h)
	}
}

func versionName(v metainfo.Version) string {
	if v == metainfo.Hybrid {
		return "hybrid (v1 and v2)"
	}
	return v.String()
}

func countFiles(files []metainfo.File) int {
	n := 0
	for _, f := range files {
		if !f.IsPadding() {
			n++
		}
	}
	return n
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

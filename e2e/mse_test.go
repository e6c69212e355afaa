package e2e

import (
	"encoding/hex"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/peerwire"
)

// TestClientsRequiringEncryptionDownloadFromOurSeeder has libtorrent,
// set to speak only MSE/PE with RC4, download a single-file and a
// multi-file torrent from our seeder through our tracker, under both
// --encryption prefer and require. Under prefer the seeder dials
// libtorrent plain first and again encrypted after libtorrent hangs up;
// libtorrent dials the seeder encrypted. Under require a plain peer is
// refused, and Transmission with encryption required (which never dials a
// loopback seeder: the seeder dials it, encrypted) downloads too.
func TestClientsRequiringEncryptionDownloadFromOurSeeder(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	for _, policy := range []string{"prefer", "require"} {
		t.Run(policy, func(t *testing.T) {
			tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
			work := t.TempDir()
			data := filepath.Join(work, "data")
			sums := content(t, data, 3<<20+4321)
			sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.announceURL()},
				"--piece-length", "256K", "--encryption", policy)
			st := sp.status(t)
			single, album := st["single.bin"], st["album"]
			if single.InfoHash == "" || album.InfoHash == "" {
				t.Fatalf("/torrents: %+v", st)
			}
			torrents := []string{single.Torrent, album.Torrent}

			ltDir := filepath.Join(work, "libtorrent")
			lt := testenv.Start(t, py, append([]string{script, "--require-encryption", "fetchmany", ltDir,
				strconv.Itoa(testenv.FreePort(t)), "150", "-"}, torrents...))
			var trDir, trDone string
			if policy == "require" {
				plainPeerIsRefused(t, sp.addr(), single.InfoHash)
				trDir, trDone = transmissionWith(t, work, map[string]any{"encryption": 2}, torrents...)
			}

			if err := lt.Wait(180 * time.Second); err != nil {
				t.Fatalf("libtorrent: %v\n%s\nseeder log:\n%s", err, lt.Tail(3000), sp.proc.Tail(4000))
			}
			checkFiles(t, "libtorrent", ltDir, sums)
			if policy == "require" {
				waitTransmission(t, sp, trDone, "single.bin", "album")
				checkFiles(t, "transmission", trDir, sums)
			}
			log := string(sp.proc.Output())
			if !strings.Contains(log, "encrypted handshake") || !strings.Contains(log, "method=rc4") {
				t.Errorf("the seeder logged no RC4 handshake:\n%s", sp.proc.Tail(4000))
			}
		})
	}
}

// plainPeerIsRefused sends a plain handshake for infoHash and expects the
// connection closed without an answer.
func plainPeerIsRefused(t *testing.T, addr, infoHash string) {
	t.Helper()
	var h peerwire.Handshake
	if _, err := hex.Decode(h.InfoHash[:], []byte(infoHash)); err != nil {
		t.Fatal(err)
	}
	copy(h.PeerID[:], "-XX0001-plainplain12")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := nc.Write(h.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(nc); len(b) != 0 || err != nil {
		t.Fatalf("plain peer under --encryption require: read %d bytes, %v; want the connection closed", len(b), err)
	}
}

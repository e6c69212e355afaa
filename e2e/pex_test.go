package e2e

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

// TestLeechersMeetThroughTheSeedersPeerExchange gives two libtorrent
// leechers only the seeder's address: no tracker answers (the torrent's is
// a closed port) and there is no DHT. The seeder's peer exchange (BEP 11)
// must introduce them: at least one connects to the other's listening
// port. The seeder is throttled so that they are still downloading when
// the introduction comes (libtorrent ignores PEX once complete).
func TestLeechersMeetThroughTheSeedersPeerExchange(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	script := ltClientScript(t)
	work := t.TempDir()
	data := filepath.Join(work, "data")
	file := filepath.Join(data, "pex.bin")
	testenv.WriteRandomFile(t, file, 6<<20+777, 11)
	sum := testenv.SHA256File(t, file)
	nobody := fmt.Sprintf("http://127.0.0.1:%d/announce", testenv.FreeTCPPort(t))
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{nobody},
		"--piece-length", "64K", "--upload-rate", "1M")
	tor := sp.status(t)["pex.bin"].Torrent

	ports := []int{testenv.FreePort(t), testenv.FreePort(t)}
	var procs []*testenv.Proc
	for i, port := range ports {
		procs = append(procs, testenv.Start(t, py, []string{script, "fetchmany", filepath.Join(work, fmt.Sprint("lt", i)),
			strconv.Itoa(port), "150", sp.addr(), tor}))
	}
	for _, p := range procs {
		if err := p.Wait(180 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s\nseeder log:\n%s", p.Name, err, p.Tail(3000), sp.proc.Tail(3000))
		}
	}
	for i := range procs {
		checkFiles(t, fmt.Sprint("libtorrent ", i), filepath.Join(work, fmt.Sprint("lt", i)), map[string]string{"pex.bin": sum})
	}
	met := false
	for i, p := range procs {
		if strings.Contains(string(p.Output()), fmt.Sprintf("PEER 127.0.0.1:%d\n", ports[1-i])) {
			met = true
		}
	}
	if !met {
		t.Fatalf("the leechers never connected to each other:\n%s\n%s\nseeder log:\n%s", procs[0].Tail(2000), procs[1].Tail(2000), sp.proc.Tail(3000))
	}
}

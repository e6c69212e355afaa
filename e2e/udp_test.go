package e2e

import (
	"bytes"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/udpwire"
)

// TestRealClientsDownloadThroughOurUDPTracker is the HTTP test again with
// nothing but a udp:// tracker URL in the torrent.
func TestRealClientsDownloadThroughOurUDPTracker(t *testing.T) {
	tp := startTracker(t, "", nil, "--interval", "5m", "--min-interval", "1m")
	dir := t.TempDir()
	// aria2c sends UDP announces only through its DHT socket: DHT on, with
	// a private routing table and no entry point, reaches nobody.
	downloadThroughTracker(t, tp, tp.udpURL(), []string{
		"--enable-dht=true", "--dht-file-path=" + dir + "/dht.dat",
	})
}

// TestUDPConnectionIDsWorkAcrossReplicas connects to one tracker process
// and announces to another that shares its secret.
func TestUDPConnectionIDsWorkAcrossReplicas(t *testing.T) {
	env := []string{"TRACKER_UDP_SECRET=replicas-share-this-secret"}
	a := startTracker(t, "", env)
	b := startTracker(t, "", env)
	c := startTracker(t, "", []string{"TRACKER_UDP_SECRET=some-other-secret-entirely"})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ask := func(port int, pkt []byte) []byte {
		t.Helper()
		to := netip.MustParseAddrPort("127.0.0.1:" + strconv.Itoa(port))
		if _, err := conn.WriteToUDPAddrPort(pkt, to); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 2048)
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no answer from port %d: %v", port, err)
		}
		return buf[:n]
	}
	_, id, err := udpwire.ParseConnectResponse(ask(a.httpPort, udpwire.AppendConnectRequest(nil, 1)))
	if err != nil {
		t.Fatal(err)
	}
	req := udpwire.AnnounceRequest{ConnectionID: id, TransactionID: 2, InfoHash: [20]byte(bytes.Repeat([]byte{7}, 20)), Port: 6881, NumWant: -1}
	var ar udpwire.AnnounceResponse
	if err := udpwire.ParseAnnounceResponse(ask(b.httpPort, udpwire.AppendAnnounceRequest(nil, &req)), 6, &ar); err != nil {
		t.Fatalf("replica b refused replica a's connection ID: %v", err)
	}
	if ar.Seeders != 1 || ar.TransactionID != 2 {
		t.Fatalf("replica b answered %+v", ar)
	}
	if _, msg, err := udpwire.ParseError(ask(c.httpPort, udpwire.AppendAnnounceRequest(nil, &req))); err != nil {
		t.Fatalf("a tracker with another secret accepted the ID: %v", err)
	} else if msg != "bad connection id" {
		t.Fatalf("error %q", msg)
	}
}

// TestOurSeederAnnouncesOverUDP runs our seeder with only a udp:// tracker:
// its announcer speaks BEP 15, and libtorrent and aria2c find it through
// our UDP tracker.
func TestOurSeederAnnouncesOverUDP(t *testing.T) {
	py := testenv.LookPath(t, testenv.DebianPython)
	aria := testenv.LookPath(t, "aria2c")
	script := ltClientScript(t)
	tp := startTracker(t, "", nil, "--interval", "2s", "--min-interval", "1s")
	work := t.TempDir()
	data := filepath.Join(work, "data")
	sums := content(t, data, 3<<20+777)
	sp := startSeeder(t, data, filepath.Join(work, "torrents"), []string{tp.udpURL()}, "--piece-length", "256K")
	single := sp.status(t)["single.bin"]
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 1 })

	ariaDir := filepath.Join(work, "aria2")
	ariaProc := testenv.Start(t, aria, append(aria2Args(ariaDir, testenv.FreePort(t), single.Torrent),
		"--enable-dht=true", "--dht-file-path="+filepath.Join(work, "dht.dat")))
	ltDir := filepath.Join(work, "libtorrent")
	ltProc := testenv.Start(t, py, []string{script, "fetchmany", ltDir, strconv.Itoa(testenv.FreePort(t)), "150", "-", single.Torrent})
	for _, p := range []*testenv.Proc{ariaProc, ltProc} {
		if err := p.Wait(180 * time.Second); err != nil {
			t.Fatalf("%s: %v\n%s\nseeder:\n%s", p.Name, err, p.Tail(3000), sp.proc.Tail(3000))
		}
	}
	want := map[string]string{"single.bin": sums["single.bin"]}
	checkFiles(t, "aria2c", ariaDir, want)
	checkFiles(t, "libtorrent", ltDir, want)
	if err := sp.proc.Stop(syscall.SIGTERM, 15*time.Second); err != nil {
		t.Fatalf("seeder exit: %v", err)
	}
	// The stopped announce went out over UDP: the seeder left the swarm.
	waitScrape(t, tp, single.InfoHash, func(c, _, _ int) bool { return c == 0 })
}

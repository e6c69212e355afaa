package e2e

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

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

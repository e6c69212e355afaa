package udpfront

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/udpwire"
)

// queuedBytes is the memory the kernel holds for datagrams queued on conn,
// which grows with every datagram that arrives and nobody has read
// (SO_MEMINFO's first value, SK_MEMINFO_RMEM_ALLOC).
func queuedBytes(t *testing.T, conn *net.UDPConn) int {
	t.Helper()
	return testenv.SockoptInt(t, conn, unix.SOL_SOCKET, unix.SO_MEMINFO)
}

// TestOneBatchReadAnswersEveryQueuedRequestAtItsSendersAddress queues
// announces from several client sockets before the server reads at all,
// then lets one worker read once: every client must get its own answer.
// An announce is answered (not refused for a bad connection ID) only if the
// server saw the address the test issued the ID for, the unmapped one, so
// this also checks the addresses of a dual-stack socket's IPv4 clients.
func TestOneBatchReadAnswersEveryQueuedRequestAtItsSendersAddress(t *testing.T) {
	for _, fam := range []struct {
		name, network, host string
		clients             []string
	}{
		{"IPv4", "udp4", "127.0.0.1", []string{"127.0.0.1"}},
		{"IPv6", "udp6", "::1", []string{"::1"}},
		// Bound to every address, but only loopback traffic reaches it here.
		{"dual-stack", "udp", "::", []string{"127.0.0.1", "::1"}},
	} {
		t.Run(fam.name, func(t *testing.T) {
			store, err := memstore.New(memstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			tr, err := tracker.New(tracker.Config{}, store, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := New(tr, Config{Batch: 8})
			if err != nil {
				t.Fatal(err)
			}
			conn, err := net.ListenUDP(fam.network, &net.UDPAddr{IP: net.ParseIP(fam.host)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			port := conn.LocalAddr().(*net.UDPAddr).Port
			w := srv.newWorker()

			// Three clients per family, each sending one announce.
			type sent struct {
				conn *net.UDPConn
				tid  uint32
			}
			var clients []sent
			for _, host := range fam.clients {
				to := netip.AddrPortFrom(netip.MustParseAddr(host), uint16(port))
				for range 3 {
					c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(host)})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { c.Close() })
					ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
					from := netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
					tid := uint32(100 + len(clients))
					pkt := udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{
						ConnectionID: w.ids.issue(from), TransactionID: tid, InfoHash: ih(1),
						PeerID: pid(from.String()), Left: 1, NumWant: 50, Port: from.Port(),
					})
					before := queuedBytes(t, conn)
					if _, err := c.WriteToUDPAddrPort(pkt, to); err != nil {
						t.Fatal(err)
					}
					testenv.Eventually(t, 5*time.Second, "the announce is queued on the server's socket", func() bool {
						return queuedBytes(t, conn) > before
					})
					clients = append(clients, sent{c, tid})
				}
			}
			if len(clients) > 8 {
				t.Fatalf("%d clients do not fit one batch of 8", len(clients))
			}

			if err := w.serveBatch(newBatch(conn, 8)); err != nil {
				t.Fatal(err)
			}
			for _, c := range clients {
				c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 2048)
				n, err := c.conn.Read(buf)
				if err != nil {
					t.Fatalf("client %d: no answer after one batch read: %v", c.tid, err)
				}
				var ar udpwire.AnnounceResponse
				if err := udpwire.ParseAnnounceResponse(buf[:n], tracker.CompactSize(c.conn.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()), &ar); err != nil {
					_, msg, _ := udpwire.ParseError(buf[:n])
					t.Fatalf("client %d: answer %x (%q): %v", c.tid, buf[:n], msg, err)
				}
				if ar.TransactionID != c.tid {
					t.Fatalf("client %d got the answer to transaction %d", c.tid, ar.TransactionID)
				}
			}
		})
	}
}

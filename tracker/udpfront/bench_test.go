package udpfront

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/udpwire"
)

// BenchmarkUDPAnnounce is one IPv4 announce packet, connection-ID check
// included, into a swarm of 1,000 peers: the UDP counterpart of the HTTP
// BenchmarkAnnounce.
func BenchmarkUDPAnnounce(b *testing.B) {
	store, err := memstore.New(memstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	tr, err := tracker.New(tracker.Config{}, store, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(tr, Config{})
	if err != nil {
		b.Fatal(err)
	}
	w := &worker{s: srv, ids: newConnIDs(srv.cfg.Secret, time.Now), out: make([]byte, 0, 2048)}
	const swarm = 1000
	pkts := make([][]byte, swarm)
	from := make([]netip.AddrPort, swarm)
	for n := range swarm {
		from[n] = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(n >> 8), byte(n)}), 40000)
		var id [20]byte
		copy(id[:], fmt.Sprintf("-BO0001-%012d", n))
		left := int64(0)
		if n%4 != 0 {
			left = 1 << 20
		}
		pkts[n] = udpwire.AppendAnnounceRequest(nil, &udpwire.AnnounceRequest{
			ConnectionID: w.ids.issue(from[n]), TransactionID: uint32(n), InfoHash: ih(1), PeerID: id,
			Left: left, NumWant: 50, Port: uint16(10000 + n),
		})
		w.handle(pkts[n], from[n])
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n := i % swarm
		if reply := w.handle(pkts[n], from[n]); len(reply) < udpwire.AnnounceResponseSize {
			b.Fatalf("reply %x", reply)
		}
	}
}

package seeder

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// TestLeechersAreIntroducedToEachOtherByPeerExchange connects two raw
// peers that speak ut_pex and listen on made-up ports: each hears of the
// other's listening address from the seeder (BEP 11).
func TestLeechersAreIntroducedToEachOtherByPeerExchange(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 16<<10)
	_, addr := serveTest(t, Config{}, tor)
	const theirPexID = 9
	peers := []*testPeer{connectPeer(t, addr, tor, fastReserved()), connectPeer(t, addr, tor, fastReserved())}
	ports := []uint16{40001, 40002}
	for i, p := range peers {
		h, err := peerwire.ParseExtensionHandshake(waitFor[*peerwire.Extended](p))
		if err != nil || h.M[peerwire.PexExtension] != peer.PexID {
			t.Fatalf("extension handshake %+v, %v: want ut_pex %d", h, err, peer.PexID)
		}
		p.send(&peerwire.Extended{ExtID: peerwire.ExtHandshakeID,
			Payload: peerwire.ExtensionHandshake{M: map[string]uint8{peerwire.PexExtension: theirPexID}, P: ports[i]}.AppendTo(nil)[6:]})
	}
	for i, p := range peers {
		other := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), ports[1-i])
		for {
			m := waitFor[*peerwire.Extended](p)
			if m.ExtID != theirPexID {
				continue
			}
			px, err := peerwire.ParsePex(m)
			if err != nil {
				t.Fatal(err)
			}
			if len(px.Added) != 1 || px.Added[0].Addr != other || len(px.Dropped) != 0 {
				t.Fatalf("peer %d: pex %+v, want only %v added", i, px, other)
			}
			break
		}
	}
}

// BEP 27: the peers of a private torrent learn of each other only from its
// tracker, so the seeder does not offer ut_pex for it.
func TestAPrivateTorrentHasNoPeerExchange(t *testing.T) {
	root := t.TempDir()
	path := filepath.Join(root, "private.bin")
	testenv.WriteData(t, path, 64<<10, 3)
	meta, err := metainfo.Create(context.Background(), path, metainfo.CreateOptions{PieceLength: 16 << 10, Private: true})
	if err != nil {
		t.Fatal(err)
	}
	tor := content.NewTorrent(meta, "", root, content.FullBitfield(meta), 0)
	_, addr := serveTest(t, Config{}, tor)
	p := connectPeer(t, addr, tor, fastReserved())
	h, err := peerwire.ParseExtensionHandshake(waitFor[*peerwire.Extended](p))
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := h.M[peerwire.PexExtension]; ok {
		t.Fatalf("ut_pex offered (id %d) for a private torrent", id)
	}
}

package seeder

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/metainfo"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
)

// v2Torrent loads the v2Content of version v, served whole.
func v2Torrent(t *testing.T, v metainfo.Version, name string, pieceLength int64) *content.Torrent {
	t.Helper()
	data := contenttest.V2Folder(t)
	ts, _ := contenttest.Load(t, content.LoadConfig{DataDir: data, TorrentDir: filepath.Join(filepath.Dir(data), "torrents"),
		PieceLength: pieceLength, Version: v, Trackers: [][]string{{"http://127.0.0.1:1/announce"}}})
	tor := ts[name]
	if !tor.Have.All() {
		t.Fatalf("%s: %d of %d pieces", name, tor.Have.Count(), tor.NumPieces())
	}
	return tor
}

// shake opens a connection to addr with a handshake for infoHash and
// returns the seeder's handshake and a reader of what follows.
func shake(t *testing.T, addr string, infoHash metainfo.InfoHash, tor *content.Torrent) (peerwire.Handshake, *testPeer, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	h := peerwire.Handshake{Reserved: fastReserved(), InfoHash: infoHash, PeerID: [20]byte{'-', 'T', 'T', '0', '0', '0', '2', '-'}}
	h.Reserved.SetV2()
	copy(h.PeerID[8:], []byte(time.Now().Format("150405.00000")))
	if _, err := nc.Write(h.AppendTo(nil)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	got, err := peerwire.ReadHandshake(br)
	return got, &testPeer{t: t, nc: nc, r: peerwire.NewReader(br, peerwire.ReaderConfig{Pieces: tor.NumPieces()})}, err
}

// TestAHybridIsReachableByEitherInfoHash connects to a hybrid by its v1
// hash and by its truncated v2 hash: the seeder answers with the hash each
// peer used, says it speaks v2, and serves the same pieces to both.
func TestAHybridIsReachableByEitherInfoHash(t *testing.T) {
	tor := v2Torrent(t, metainfo.Hybrid, "album", 16<<10)
	v1, _ := tor.Meta.InfoHashV1()
	v2, _ := tor.Meta.InfoHashV2()
	_, addr := serveTest(t, Config{}, tor)
	var blocks [][]byte
	for _, h := range []metainfo.InfoHash{v1, v2.Truncate()} {
		got, p, err := shake(t, addr, h, tor)
		if err != nil || got.InfoHash != h || !got.Reserved.V2() || !got.Reserved.Fast() {
			t.Fatalf("handshake for %s: %+v, v2 bit %v, %v", h, got, got.Reserved.V2(), err)
		}
		waitFor[*peerwire.HaveAll](p)
		p.send(&peerwire.Interested{})
		waitFor[*peerwire.Unchoke](p)
		// a.bin's last piece: 70000-4*16384 bytes of data, then padding.
		p.send(&peerwire.Request{Index: 4, Begin: 0, Length: 16 << 10})
		blocks = append(blocks, waitFor[*peerwire.Piece](p).Block)
	}
	if !bytes.Equal(blocks[0], blocks[1]) {
		t.Fatal("the two hashes served different data")
	}
	if tail := blocks[0][70000-4*16384:]; !bytes.Equal(tail, make([]byte, len(tail))) {
		t.Fatal("the padding after a file is not zeros")
	}
	if _, _, err := shake(t, addr, metainfo.InfoHash(v2[12:32]), tor); err == nil {
		t.Fatal("a handshake for another hash was answered")
	}
}

func TestAV2OnlyTorrentIsServedByItsTruncatedHash(t *testing.T) {
	tor := v2Torrent(t, metainfo.V2, "one.iso", 16<<10)
	v2, _ := tor.Meta.InfoHashV2()
	if tor.InfoHash() != v2.Truncate() {
		t.Fatalf("InfoHash %s, want the truncated v2 hash %s", tor.InfoHash(), v2.Truncate())
	}
	s, addr := serveTest(t, Config{}, tor)
	got, p, err := shake(t, addr, v2.Truncate(), tor)
	if err != nil || got.InfoHash != v2.Truncate() || !got.Reserved.V2() {
		t.Fatalf("handshake: %+v %v", got, err)
	}
	waitFor[*peerwire.HaveAll](p)
	// libtorrent asks for the whole first block of the last piece, 849
	// bytes of one.iso and then padding up to the full piece it expects.
	p.send(&peerwire.Interested{})
	waitFor[*peerwire.Unchoke](p)
	p.send(&peerwire.Request{Index: 3, Begin: 0, Length: 16 << 10})
	block := waitFor[*peerwire.Piece](p).Block
	file, err := os.ReadFile(filepath.Join(tor.Root, "one.iso"))
	if err != nil {
		t.Fatal(err)
	}
	if len(block) != 16<<10 || !bytes.Equal(block[:849], file[3*16<<10:]) || !bytes.Equal(block[849:], make([]byte, len(block)-849)) {
		t.Fatal("the last block is not the file's last bytes and zeros")
	}
	st := s.Status()
	if len(st) != 1 || st[0].InfoHash != v2.Truncate().String() || st[0].InfoHashV2 != v2.String() {
		t.Fatalf("status %+v", st)
	}
}

// TestHashRequestsAreAnsweredFromThePieceLayers asks a v2 torrent's seeder
// for a file's piece layer, with and without a proof, and for what it
// cannot (block hashes) or must not answer.
func TestHashRequestsAreAnsweredFromThePieceLayers(t *testing.T) {
	tor := v2Torrent(t, metainfo.V2, "album", 32<<10)
	_, addr := serveTest(t, Config{}, tor)
	// a.bin: 5 blocks (8 leaves), 3 pieces of 2 blocks: the piece layer
	// is layer 1, 4 wide, and the root is at layer 3.
	a := tor.Meta.Info.FileTree[0]
	layer := tor.Meta.PieceLayers[a.PiecesRoot]
	if len(layer) != 3 {
		t.Fatalf("a.bin has %d pieces", len(layer))
	}
	_, p, err := shake(t, addr, tor.InfoHash(), tor)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(base, index, length, proof uint32) peerwire.Message {
		t.Helper()
		req := peerwire.HashRequest{PiecesRoot: a.PiecesRoot, BaseLayer: base, Index: index, Length: length, ProofLayers: proof}
		p.send(&req)
		for {
			m, err := p.r.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *peerwire.Hashes:
				if m.HashRange != peerwire.HashRange(req) {
					t.Fatalf("hashes for %+v, asked %+v", m.HashRange, req)
				}
				return &peerwire.Hashes{HashRange: m.HashRange, Hashes: bytes.Clone(m.Hashes)}
			case *peerwire.HashReject:
				if *m != peerwire.HashReject(req) {
					t.Fatalf("reject of %+v, asked %+v", *m, req)
				}
				return m
			}
		}
	}
	pair := func(a, b []byte) []byte {
		h := sha256.Sum256(append(bytes.Clone(a), b...))
		return h[:]
	}
	zero := make([]byte, 32)
	padPiece := pair(zero, zero) // the root of a piece of two zero leaves

	// The whole layer, padded to 4, with proof layers up to below the
	// root: no uncle needed.
	got, ok := ask(1, 0, 4, 1).(*peerwire.Hashes)
	if !ok || len(got.Hashes) != 4*32 {
		t.Fatalf("whole layer: %+v", got)
	}
	for i, h := range layer {
		if !bytes.Equal(got.Hashes[32*i:32*i+32], h[:]) {
			t.Fatalf("hash %d is not the piece layer's", i)
		}
	}
	if !bytes.Equal(got.Hashes[3*32:], padPiece) {
		t.Fatal("the layer is not padded with the root of a piece of zero leaves")
	}
	// The second half, and the first half's root as its proof: with it
	// the requester reaches the pieces root.
	got, ok = ask(1, 2, 2, 1).(*peerwire.Hashes)
	if !ok || len(got.Hashes) != 3*32 {
		t.Fatalf("second half with proof: %+v", got)
	}
	firstHalf := pair(layer[0][:], layer[1][:])
	if !bytes.Equal(got.Hashes[2*32:], firstHalf) {
		t.Fatal("the uncle is not the first half's root")
	}
	if root := pair(firstHalf, pair(got.Hashes[:32], got.Hashes[32:64])); !bytes.Equal(root, a.PiecesRoot[:]) {
		t.Fatal("the proof does not lead to the pieces root")
	}
	for _, bad := range [][4]uint32{
		{0, 0, 2, 0}, // block hashes: only the data has them
		{1, 0, 3, 0}, // not a power of two
		{1, 0, 4, 2}, // a proof reaching the root
		{1, 4, 2, 0}, // past the layer
	} {
		if _, ok := ask(bad[0], bad[1], bad[2], bad[3]).(*peerwire.HashReject); !ok {
			t.Fatalf("%v answered", bad)
		}
	}
}

// TestAHybridIsAnnouncedAndRegisteredUnderBothHashes has a tracker name a
// leecher only in the hybrid's v2 swarm: the seeder registers the hybrid
// once, its v2 hash as the v1 hash's alias (one swarm at the tracker),
// announces both hashes, and dials the leecher with the v2 one.
func TestAHybridIsAnnouncedAndRegisteredUnderBothHashes(t *testing.T) {
	tor := v2Torrent(t, metainfo.Hybrid, "album", 16<<10)
	tor.Meta.Announce, tor.Meta.AnnounceList = "", nil // the configured tracker, then
	v1, _ := tor.Meta.InfoHashV1()
	v2, _ := tor.Meta.InfoHashV2()
	leecher, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer leecher.Close()
	lp := leecher.Addr().(*net.TCPAddr).Port

	var mu sync.Mutex
	announced, registered := map[string]int{}, map[string]int{}
	tracker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := metainfo.InfoHash([]byte(r.URL.Query().Get("info_hash")))
		mu.Lock()
		announced[h.String()]++
		mu.Unlock()
		peers := ""
		if h == v2.Truncate() {
			peers = string([]byte{127, 0, 0, 1, byte(lp >> 8), byte(lp)})
		}
		fmt.Fprintf(w, "d8:intervali60e5:peers%d:%se", len(peers), peers)
	}))
	defer tracker.Close()
	admin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		registered[r.Method+" "+path.Base(r.URL.Path)+" "+r.URL.Query().Get("v2")]++
		mu.Unlock()
	}))
	defer admin.Close()

	_, _ = serveTest(t, Config{Trackers: [][]string{{tracker.URL + "/announce"}},
		Registrar: &announcer.Registrar{URLs: []string{admin.URL}, Token: "t"}}, tor)
	leecher.(*net.TCPListener).SetDeadline(time.Now().Add(20 * time.Second))
	nc, err := leecher.Accept()
	if err != nil {
		t.Fatalf("the seeder never dialled the v2 swarm's leecher: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	h, err := peerwire.ReadHandshakeStart(bufio.NewReader(nc))
	if err != nil || h.InfoHash != v2.Truncate() || !h.Reserved.V2() {
		t.Fatalf("dialled with %s (v2 bit %v), want the v2 hash %s: %v", h.InfoHash, h.Reserved.V2(), v2.Truncate(), err)
	}
	waitUntil(t, "announces under both hashes", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return announced[v1.String()] > 0 && announced[v2.Truncate().String()] > 0
	})
	mu.Lock()
	defer mu.Unlock()
	for _, h := range []metainfo.InfoHash{v1, v2.Truncate()} {
		if announced[h.String()] == 0 {
			t.Errorf("%s: no announce", h)
		}
	}
	// One registration: the v1 hash, with the v2 one as its alias.
	hybrid := "PUT " + v1.String() + " " + hex.EncodeToString(v2[:])
	if registered[hybrid] != 1 || len(registered) != 1 {
		t.Errorf("registrations %v, want one %q", registered, hybrid)
	}
}

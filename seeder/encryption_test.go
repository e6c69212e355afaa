package seeder

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/mse"
	"github.com/bitorigin/bitorigin/peerwire"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/content/contenttest"
	"github.com/bitorigin/bitorigin/seeder/peer"
)

// connectEncrypted opens an MSE connection to the seeder offering
// methods, with our handshake for info hash ih (tor's unless set) in IA.
func connectEncrypted(t *testing.T, addr string, tor *content.Torrent, ih [20]byte, methods mse.Method) (*mse.Conn, error) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if ih == ([20]byte{}) {
		ih = tor.InfoHash()
	}
	h := peerwire.Handshake{Reserved: fastReserved(), InfoHash: ih, PeerID: [20]byte{'-', 'T', 'T', '0', '0', '0', '1', '-'}}
	copy(h.PeerID[8:], fmt.Sprintf("%012d", peerCount.Add(1)))
	return mse.Initiate(nc, tor.InfoHash(), mse.Config{Methods: methods, InitialPayload: h.AppendTo(nil)})
}

func TestEncryptedPeersDownloadOnThePlainPort(t *testing.T) {
	for _, tc := range []struct {
		policy  peer.Encryption
		offer   mse.Method
		want    mse.Method
		refused bool
	}{
		{peer.EncryptionPrefer, mse.RC4 | mse.Plaintext, mse.RC4, false},
		{peer.EncryptionPrefer, mse.Plaintext, mse.Plaintext, false},
		{peer.EncryptionRequire, mse.RC4, mse.RC4, false},
		{peer.EncryptionRequire, mse.Plaintext, 0, true},
		{peer.EncryptionOff, mse.RC4, 0, true},
	} {
		t.Run(fmt.Sprintf("%s offered %s", tc.policy, tc.offer), func(t *testing.T) {
			tor, data := contenttest.Complete(t, 100<<10, 32<<10)
			_, addr := serveTest(t, Config{Encryption: tc.policy}, tor)
			ec, err := connectEncrypted(t, addr, tor, [20]byte{}, tc.offer)
			if tc.refused {
				if err == nil {
					t.Fatalf("handshake succeeded with %s", ec.Method())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ec.Method() != tc.want {
				t.Fatalf("method %s, want %s", ec.Method(), tc.want)
			}
			br := bufio.NewReader(ec)
			if h, err := peerwire.ReadHandshake(br); err != nil || h.InfoHash != tor.InfoHash() {
				t.Fatalf("handshake %+v, %v", h, err)
			}
			p := &testPeer{t: t, nc: ec, r: peerwire.NewReader(br, peerwire.ReaderConfig{Pieces: tor.NumPieces()})}
			p.send(&peerwire.Interested{})
			waitFor[*peerwire.Unchoke](p)
			var got []byte
			for i := range 3 {
				p.send(&peerwire.Request{Index: uint32(i), Length: 16 << 10}, &peerwire.Request{Index: uint32(i), Begin: 16 << 10, Length: 16 << 10})
			}
			for len(got) < 3*32<<10 {
				got = append(got, waitFor[*peerwire.Piece](p).Block...)
			}
			if !bytes.Equal(got, data[:3*32<<10]) {
				t.Fatal("blocks differ from the data")
			}
		})
	}
}

func TestRequiredEncryptionRefusesPlainPeers(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	_, addr := serveTest(t, Config{Encryption: peer.EncryptionRequire}, tor)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	nc.Write(peerwire.Handshake{InfoHash: tor.InfoHash()}.AppendTo(nil))
	if b, err := io.ReadAll(nc); len(b) != 0 || err != nil {
		t.Fatalf("read %d bytes, %v; want a silent close", len(b), err)
	}
}

func TestEncryptedHandshakeMustNameTheSameTorrentTwice(t *testing.T) {
	tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
	other, _ := contenttest.Complete(t, 65<<10, 32<<10)
	_, addr := serveTest(t, Config{}, tor, other)
	ec, err := connectEncrypted(t, addr, tor, other.InfoHash(), mse.RC4)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(ec); len(b) != 0 || err != nil {
		t.Fatalf("read %d bytes, %v; want a silent close", len(b), err)
	}
}

// TestLeecherThatRefusesPlainIsDialledAgainEncrypted: a leecher that
// requires encryption hangs up on our plain handshake; under prefer the
// seeder dials it again with MSE, and under require it starts with MSE.
func TestLeecherThatRefusesPlainIsDialledAgainEncrypted(t *testing.T) {
	for _, policy := range []peer.Encryption{peer.EncryptionPrefer, peer.EncryptionRequire} {
		t.Run(policy.String(), func(t *testing.T) {
			tor, _ := contenttest.Complete(t, 64<<10, 32<<10)
			s, _ := serveTest(t, Config{Encryption: policy}, tor)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			plain := 0
			got := make(chan error, 1)
			go func() {
				for {
					nc, err := ln.Accept()
					if err != nil {
						return
					}
					nc.SetDeadline(time.Now().Add(10 * time.Second))
					br := bufio.NewReader(nc)
					first, err := br.Peek(20)
					if err != nil {
						nc.Close()
						continue
					}
					// An MSE handshake starts with a random public key,
					// whose first byte is 19 once in 256: compare the whole
					// protocol string.
					if string(first) == "\x13BitTorrent protocol" {
						plain++
						nc.Close()
						continue
					}
					ec, err := mse.Accept(nc, br, mse.Config{SKeys: func(r [20]byte) ([20]byte, bool) {
						return tor.InfoHash(), r == mse.Req2(tor.InfoHash())
					}})
					if err == nil {
						var h peerwire.Handshake
						h, err = peerwire.ReadHandshake(ec)
						if err == nil && h.InfoHash != tor.InfoHash() {
							err = errors.New("wrong info hash")
						}
					}
					got <- err
					nc.Close()
					return
				}
			}()
			s.mu.Lock()
			sw := s.list[0]
			s.mu.Unlock()
			s.addCandidates(sw, []netip.AddrPort{netip.MustParseAddrPort(ln.Addr().String())})
			select {
			case err := <-got:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no encrypted handshake")
			}
			if want := map[peer.Encryption]int{peer.EncryptionPrefer: 1}[policy]; plain != want {
				t.Fatalf("%d plain handshakes, want %d", plain, want)
			}
		})
	}
}

func TestParseEncryption(t *testing.T) {
	for _, e := range []peer.Encryption{peer.EncryptionPrefer, peer.EncryptionRequire, peer.EncryptionOff} {
		if got, err := peer.ParseEncryption(e.String()); err != nil || got != e {
			t.Fatalf("%s: %v, %v", e, got, err)
		}
	}
	if _, err := peer.ParseEncryption("yes"); err == nil {
		t.Fatal("parsed yes")
	}
	if err := (Config{Encryption: 7}).Validate(); err == nil {
		t.Fatal("Encryption(7) is valid")
	}
}

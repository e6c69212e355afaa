package mse

import (
	"bytes"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"
)

// btHandshake is a BitTorrent handshake for skey, as IA usually carries.
func btHandshake(skey [20]byte) []byte {
	b := append([]byte{19}, "BitTorrent protocol"...)
	b = append(b, make([]byte, 8)...)
	b = append(b, skey[:]...)
	return append(b, "-XX0001-123456789012"...)
}

var (
	torrentA = [20]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	torrentB = [20]byte{0xbb}
)

// lookup finds the SKEYs given, as a seeder finds its torrents.
func lookup(skeys ...[20]byte) SKeyLookup {
	m := map[[20]byte][20]byte{}
	for _, k := range skeys {
		m[Req2(k)] = k
	}
	return func(req2 [20]byte) ([20]byte, bool) {
		k, ok := m[req2]
		return k, ok
	}
}

// tcpPair returns both ends of a loopback TCP connection, with deadlines:
// net.Pipe has no buffer, so two sides that both write their padding
// before reading would block each other.
func tcpPair(t testing.TB) (a, b net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	a, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b = <-accepted
	if b == nil {
		t.Fatal("accept failed")
	}
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

type result struct {
	c   *Conn
	err error
}

// handshake runs both sides and returns their streams or errors; a side
// that fails closes its connection, as a real peer would.
func handshake(t *testing.T, skey [20]byte, icfg, rcfg Config) (ic, rc *Conn, ierr, rerr error) {
	t.Helper()
	a, b := tcpPair(t)
	done := make(chan result, 1)
	go func() {
		c, err := Accept(b, nil, rcfg)
		if err != nil {
			b.Close()
		}
		done <- result{c, err}
	}()
	ic, ierr = Initiate(a, skey, icfg)
	if ierr != nil {
		a.Close()
	}
	r := <-done
	return ic, r.c, ierr, r.err
}

func fixedPad(n int) func() int { return func() int { return n } }

func TestHandshakeAgreesOnAMethodAndCarriesData(t *testing.T) {
	for _, tc := range []struct {
		name            string
		provide, accept Method
		pad             func() int
		want            Method
	}{
		{"rc4 when both offer both", RC4 | Plaintext, RC4 | Plaintext, nil, RC4},
		{"rc4 only", RC4, RC4, nil, RC4},
		{"plaintext when only offered", Plaintext, RC4 | Plaintext, nil, Plaintext},
		{"rc4 when only rc4 is accepted", RC4 | Plaintext, RC4, nil, RC4},
		{"no padding", RC4, RC4, fixedPad(0), RC4},
		{"most padding", RC4, RC4, fixedPad(MaxPadding), RC4},
		{"most padding plaintext", Plaintext, Plaintext, fixedPad(MaxPadding), Plaintext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ia := btHandshake(torrentA)
			ic, rc, ierr, rerr := handshake(t, torrentA,
				Config{Methods: tc.provide, InitialPayload: ia, Padding: tc.pad},
				Config{Methods: tc.accept, SKeys: lookup(torrentB, torrentA), Padding: tc.pad})
			if ierr != nil || rerr != nil {
				t.Fatalf("initiator: %v, responder: %v", ierr, rerr)
			}
			if ic.Method() != tc.want || rc.Method() != tc.want {
				t.Fatalf("methods %s and %s, want %s", ic.Method(), rc.Method(), tc.want)
			}
			if rc.SKey() != torrentA || ic.SKey() != torrentA {
				t.Fatalf("SKEY %x / %x", rc.SKey(), ic.SKey())
			}
			// IA comes first, then what the initiator writes after.
			more := bytes.Repeat([]byte("request"), 5000)
			go ic.Write(more)
			got := make([]byte, len(ia)+len(more))
			if _, err := io.ReadFull(rc, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, append(append([]byte{}, ia...), more...)) {
				t.Fatal("responder read something else than IA and the stream")
			}
			// And the other way.
			reply := bytes.Repeat([]byte("piece"), 30000)
			go rc.Write(reply)
			got = make([]byte, len(reply))
			if _, err := io.ReadFull(ic, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, reply) {
				t.Fatal("initiator read something else than the reply")
			}
		})
	}
}

func TestHandshakeFailsWithoutACommonMethod(t *testing.T) {
	_, _, ierr, rerr := handshake(t, torrentA, Config{Methods: Plaintext},
		Config{Methods: RC4, SKeys: lookup(torrentA)})
	if !errors.Is(rerr, ErrNoMethod) {
		t.Fatalf("responder: %v, want ErrNoMethod", rerr)
	}
	if ierr == nil {
		t.Fatal("initiator succeeded")
	}
}

func TestHandshakeRejectsAnUnknownSKey(t *testing.T) {
	_, _, ierr, rerr := handshake(t, torrentB, Config{}, Config{SKeys: lookup(torrentA)})
	if !errors.Is(rerr, ErrUnknownSKey) {
		t.Fatalf("responder: %v, want ErrUnknownSKey", rerr)
	}
	if ierr == nil {
		t.Fatal("initiator succeeded")
	}
}

func TestResponderFailsOnTruncatedOrGarbageHandshakes(t *testing.T) {
	// A valid Ya, so the responder gets as far as looking for req1.
	key, err := newDHKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		input []byte
		close bool
	}{
		{"empty", nil, true},
		{"short Ya", bytes.Repeat([]byte{7}, 50), true},
		{"short Ya, then silence", bytes.Repeat([]byte{7}, 50), false},
		{"Ya of zeros", make([]byte, 96), true},
		{"Ya, then silence", key.y[:], false},
		{"Ya and garbage beyond the padding", append(key.y[:], bytes.Repeat([]byte{0x55}, 700)...), false},
		{"Ya and some garbage, then close", append(key.y[:], bytes.Repeat([]byte{0x55}, 100)...), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := tcpPair(t)
			b.SetDeadline(time.Now().Add(300 * time.Millisecond))
			go func() {
				a.Write(tc.input)
				if tc.close {
					a.Close()
				}
				io.Copy(io.Discard, a)
			}()
			c, err := Accept(b, nil, Config{SKeys: lookup(torrentA)})
			if err == nil {
				t.Fatalf("accepted %v", c.Method())
			}
		})
	}
}

func TestInitiatorFailsOnGarbage(t *testing.T) {
	a, b := tcpPair(t)
	a.SetDeadline(time.Now().Add(300 * time.Millisecond))
	key, _ := newDHKey(nil)
	go func() {
		b.Write(append(key.y[:], bytes.Repeat([]byte{1}, 600)...))
		io.Copy(io.Discard, b)
	}()
	if _, err := Initiate(a, torrentA, Config{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestWriteBuffersSendsEverythingAndLeavesTheCallersBytesAlone(t *testing.T) {
	for _, m := range []Method{RC4, Plaintext} {
		t.Run(m.String(), func(t *testing.T) {
			ic, rc, ierr, rerr := handshake(t, torrentA, Config{Methods: m}, Config{Methods: m, SKeys: lookup(torrentA)})
			if ierr != nil || rerr != nil {
				t.Fatalf("initiator: %v, responder: %v", ierr, rerr)
			}
			var want []byte
			var bufs net.Buffers
			var orig [][]byte
			for i := range 40 {
				hdr := []byte{0, 0, 0x40, 9, 7, byte(i)}
				block := bytes.Repeat([]byte{byte(i)}, 16<<10+i)
				bufs = append(bufs, hdr, block, nil)
				orig = append(orig, bytes.Clone(hdr), bytes.Clone(block), nil)
				want = append(append(want, hdr...), block...)
			}
			kept := append(net.Buffers{}, bufs...)
			errc := make(chan error, 1)
			go func() {
				n, err := rc.WriteBuffers(&bufs)
				if err == nil && n != int64(len(want)) {
					err = io.ErrShortWrite
				}
				errc <- err
			}()
			got := make([]byte, len(want))
			if _, err := io.ReadFull(ic, got); err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("read something else than was written")
			}
			if len(bufs) != 0 {
				t.Fatalf("%d buffers left", len(bufs))
			}
			for i := range kept {
				if !bytes.Equal(kept[i], orig[i]) {
					t.Fatalf("buffer %d modified", i)
				}
			}
		})
	}
}

func TestRC4StreamIsNotPlaintextOnTheWire(t *testing.T) {
	a, b := tcpPair(t)
	tap := &recorder{Conn: b}
	done := make(chan error, 1)
	go func() {
		c, err := Accept(tap, nil, Config{SKeys: lookup(torrentA)})
		if err == nil {
			_, err = c.Write([]byte("BitTorrent protocol, in the clear?"))
		}
		done <- err
	}()
	ic, err := Initiate(a, torrentA, Config{})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 34)
	if _, err := io.ReadFull(ic, got); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(tap.sent.Bytes(), []byte("BitTorrent")) {
		t.Fatal("plaintext on the wire")
	}
}

// recorder keeps what is written to a connection.
type recorder struct {
	net.Conn
	sent bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.sent.Write(b)
	return r.Conn.Write(b)
}

func TestPrimeIsThe768BitOakleyPrime(t *testing.T) {
	if prime.BitLen() != 768 || !prime.ProbablyPrime(20) {
		t.Fatalf("P has %d bits, prime: %v", prime.BitLen(), prime.ProbablyPrime(20))
	}
	// (P-1)/2 is prime too: a safe prime.
	q := new(big.Int).Rsh(prime, 1)
	if !q.ProbablyPrime(20) {
		t.Fatal("P is not a safe prime")
	}
}

package mse

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// scriptConn is a connection whose peer sent in and then closed: reads
// drain in, writes are recorded.
type scriptConn struct {
	in  io.Reader
	out bytes.Buffer
}

func (c *scriptConn) Read(b []byte) (int, error)       { return c.in.Read(b) }
func (c *scriptConn) Write(b []byte) (int, error)      { return c.out.Write(b) }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// Fixed private keys, so that a recorded initiator transcript stays valid
// for the responder and the fuzzer can explore past the key exchange.
var (
	fuzzResponderKey = bytes.Repeat([]byte{0x5b}, privateBits/8)
	fuzzInitiatorKey = bytes.Repeat([]byte{0xa7}, privateBits/8)
)

func fuzzResponderConfig() Config {
	return Config{
		Methods: RC4 | Plaintext,
		SKeys:   lookup(torrentA),
		Padding: fixedPad(0),
		keyRand: bytes.NewReader(fuzzResponderKey),
	}
}

// transcript is what an initiator with a fixed key sends to the fuzzing
// responder.
func transcript(t testing.TB, provide Method, pad int, ia []byte) []byte {
	t.Helper()
	a, b := tcpPair(t)
	rec := &recorder{Conn: a}
	go Accept(b, nil, fuzzResponderConfig())
	_, err := Initiate(rec, torrentA, Config{Methods: provide, Padding: fixedPad(pad),
		InitialPayload: ia, keyRand: bytes.NewReader(fuzzInitiatorKey)})
	if err != nil {
		t.Fatal(err)
	}
	return rec.sent.Bytes()
}

func TestFuzzTranscriptIsAccepted(t *testing.T) {
	in := transcript(t, RC4, 0, btHandshake(torrentA))
	c, err := Accept(&scriptConn{in: bytes.NewReader(in)}, nil, fuzzResponderConfig())
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(c)
	if !bytes.Equal(got, btHandshake(torrentA)) {
		t.Fatalf("IA %q", got)
	}
}

// FuzzResponder feeds the responder arbitrary bytes from a peer that then
// hangs up: it must fail or succeed, never panic or hang. The seeds are
// valid transcripts for the fixed responder key.
func FuzzResponder(f *testing.F) {
	f.Add(transcript(f, RC4, 0, btHandshake(torrentA)))
	f.Add(transcript(f, Plaintext, 3, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Accept(&scriptConn{in: bytes.NewReader(in)}, nil, fuzzResponderConfig())
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
	})
}

package peerwire

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

func testHandshake() Handshake {
	h := Handshake{Reserved: Reserved{0, 0, 0, 0, 0, 0x10, 0, 0x05}}
	copy(h.InfoHash[:], "info-hash-info-hash-")
	copy(h.PeerID[:], "-qB4650-abcdefghijkl")
	return h
}

func TestReservedBitsFollowBEP4(t *testing.T) {
	var r Reserved
	if r.Fast() || r.Extended() || r.DHT() {
		t.Fatal("zero Reserved reports an extension")
	}
	r.SetFast()
	if r != (Reserved{7: 0x04}) || !r.Fast() {
		t.Fatalf("SetFast: %x", r)
	}
	r.SetExtended()
	if r != (Reserved{5: 0x10, 7: 0x04}) || !r.Extended() {
		t.Fatalf("SetExtended: %x", r)
	}
	if r.DHT() || !(Reserved{7: 0x01}).DHT() {
		t.Fatal("DHT reads the wrong bit")
	}
	r.SetDHT()
	if r != (Reserved{5: 0x10, 7: 0x05}) || !r.DHT() {
		t.Fatalf("SetDHT: %x", r)
	}
}

func TestReadHandshakeInTwoStepsLeavesThePeerIDUnread(t *testing.T) {
	want := testHandshake()
	in := bytes.NewReader(want.AppendTo(nil))
	h, err := ReadHandshakeStart(in)
	if err != nil {
		t.Fatal(err)
	}
	if h.Reserved != want.Reserved || h.InfoHash != want.InfoHash || h.PeerID != [20]byte{} {
		t.Fatalf("ReadHandshakeStart = %+v", h)
	}
	if in.Len() != 20 {
		t.Fatalf("ReadHandshakeStart left %d bytes unread, want the 20 of the peer ID", in.Len())
	}
	id, err := ReadPeerID(in)
	if err != nil || id != want.PeerID {
		t.Fatalf("ReadPeerID = %q, %v", id, err)
	}
}

func TestReadHandshakeRejectsAnotherProtocol(t *testing.T) {
	good := testHandshake().AppendTo(nil)
	for _, tc := range []struct {
		name string
		in   []byte
		got  string
	}{
		{"wrong length byte", append([]byte{18}, good[1:]...), "\x12"},
		{"HTTP", []byte("GET /announce HTTP/1.1\r\nHost: x\r\n\r\n" + string(good)), "G"},
		{"wrong string", append([]byte("\x13BitTorrent protocoL"), good[20:]...), "\x13BitTorrent protocoL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadHandshake(bytes.NewReader(tc.in))
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("ReadHandshake = %v, want a *ProtocolError", err)
			}
			if string(pe.Got) != tc.got {
				t.Fatalf("ProtocolError.Got = %q, want %q", pe.Got, tc.got)
			}
		})
	}
}

func TestReadHandshakeWrongLengthByteFailsWithoutWaiting(t *testing.T) {
	// A reader that has nothing after the first byte: reading on would block
	// forever on a real connection.
	r := io.MultiReader(bytes.NewReader([]byte{0xff}), readerFunc(func([]byte) (int, error) {
		t.Fatal("ReadHandshakeStart read past a wrong length byte")
		return 0, nil
	}))
	var pe *ProtocolError
	if _, err := ReadHandshakeStart(r); !errors.As(err, &pe) {
		t.Fatalf("ReadHandshakeStart = %v, want a *ProtocolError", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestReadHandshakeTruncated(t *testing.T) {
	good := testHandshake().AppendTo(nil)
	for _, tc := range []struct {
		n    int
		want error
	}{
		{0, io.EOF},
		{1, io.ErrUnexpectedEOF},
		{20, io.ErrUnexpectedEOF},
		{47, io.ErrUnexpectedEOF},
		{48, io.ErrUnexpectedEOF}, // the peer ID is missing
		{67, io.ErrUnexpectedEOF},
	} {
		_, err := ReadHandshake(bytes.NewReader(good[:tc.n]))
		if !errors.Is(err, tc.want) {
			t.Errorf("ReadHandshake(%d of 68 bytes) = %v, want %v", tc.n, err, tc.want)
		}
	}
	if _, err := ReadHandshakeStart(bytes.NewReader(good[:48])); err != nil {
		t.Errorf("ReadHandshakeStart(48 bytes) = %v", err)
	}
}

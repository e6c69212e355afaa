package peerwire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestV2MessagesRoundTrip(t *testing.T) {
	h := HashRange{PiecesRoot: [32]byte{1, 2, 3}, BaseLayer: 4, Index: 8, Length: 4, ProofLayers: 2}
	for _, m := range []Message{
		&HashRequest{PiecesRoot: h.PiecesRoot, BaseLayer: 4, Index: 8, Length: 4, ProofLayers: 2},
		&HashReject{PiecesRoot: h.PiecesRoot, BaseLayer: 4, Index: 8, Length: 4, ProofLayers: 2},
		&Hashes{HashRange: h, Hashes: bytes.Repeat([]byte{7}, 6*32)},
	} {
		enc := m.AppendTo(nil)
		got := readOne(t, enc, ReaderConfig{})
		if !reflect.DeepEqual(got, clone(m)) {
			t.Fatalf("%T: read back %#v from %x", m, got, enc)
		}
	}
	if n := len(HashRequest{}.AppendTo(nil)); n != 4+1+48 {
		t.Fatalf("hash request is %d bytes, want 53 (BEP 52)", n)
	}
}

func TestHashesNotAMultipleOf32AreRefused(t *testing.T) {
	enc := Hashes{Hashes: make([]byte, 33)}.AppendTo(nil)
	_, err := NewReader(bytes.NewReader(enc), ReaderConfig{}).ReadMessage()
	if !errors.Is(err, ErrBadLength) {
		t.Fatalf("err %v, want ErrBadLength", err)
	}
	short := append(appendHeader(nil, 1+40, IDHashRequest), make([]byte, 40)...)
	if _, err := NewReader(bytes.NewReader(short), ReaderConfig{}).ReadMessage(); !errors.Is(err, ErrBadLength) {
		t.Fatalf("short hash request: err %v, want ErrBadLength", err)
	}
}

func TestTheV2BitIsTheFourthOfTheLastReservedByte(t *testing.T) {
	var r Reserved
	r.SetV2()
	if r != (Reserved{7: 0x10}) || !r.V2() || r.Fast() || r.DHT() {
		t.Fatalf("reserved %x", r)
	}
}

package peerwire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/bitorigin/bitorigin/bencode"
)

// The fuzz properties: no input makes a decoder panic, and whatever decodes
// encodes back to bytes that decode to the same value. The seed corpora are
// in testdata/fuzz.

func FuzzReadHandshake(f *testing.F) {
	f.Add(testHandshake().AppendTo(nil))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHandshake(bytes.NewReader(data))
		if err != nil {
			return
		}
		// The handshake has one encoding: it must be the input's.
		if enc := h.AppendTo(nil); !bytes.Equal(enc, data[:HandshakeLen]) {
			t.Fatalf("decoded %+v, encodes to %x, read from %x", h, enc, data[:HandshakeLen])
		}
	})
}

func FuzzReadMessage(f *testing.F) {
	f.Add(uint16(9), (&Request{Index: 1, Begin: 2, Length: 3}).AppendTo(nil))
	f.Fuzz(func(t *testing.T, pieces uint16, data []byte) {
		cfg := ReaderConfig{Pieces: uint32(pieces), MaxBlock: 1 << 10, MaxExtended: 4 << 10}
		r := NewReader(bytes.NewReader(data), cfg)
		var reencoded []byte
		for {
			m, err := r.ReadMessage()
			if err != nil {
				break
			}
			enc := m.AppendTo(nil)
			reencoded = append(reencoded, enc...)
			if again := readOne(t, enc, cfg); !reflect.DeepEqual(again, clone(m)) {
				t.Fatalf("read %#v, re-encoded %x, read back %#v", m, enc, again)
			}
			if ext, ok := m.(*Extended); ok {
				checkExtended(t, ext)
			}
		}
		// Every message has one encoding, so the messages read re-encode to
		// exactly the bytes they were read from.
		if !bytes.HasPrefix(data, reencoded) {
			t.Fatalf("messages re-encode to %x, not a prefix of the input %x", reencoded, data)
		}
	})
}

func FuzzParseExtensionHandshake(f *testing.F) {
	f.Add([]byte("d1:md11:ut_metadatai3ee1:pi6881ee"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkExtended(t, &Extended{ExtID: ExtHandshakeID, Payload: payload})
	})
}

func FuzzParsePex(f *testing.F) {
	f.Add([]byte("d5:added6:\x7f\x00\x00\x01\x1a\xe17:added.f1:\x107:dropped6:\x0a\x00\x00\x01\x1a\xe2e"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkExtended(t, &Extended{ExtID: pexTestID, Payload: payload})
	})
}

func FuzzParseMetadata(f *testing.F) {
	f.Add([]byte("d8:msg_typei1e5:piecei0e10:total_sizei3eeabc"))
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkExtended(t, &Extended{ExtID: 1, Payload: payload})
	})
}

// checkExtended decodes ext as the extension handshake or a ut_metadata
// message, by its ExtID, and checks that the result re-encodes to an
// extended message that decodes to the same value.
func checkExtended(t *testing.T, ext *Extended) {
	t.Helper()
	parse := func(e *Extended) (Message, error) {
		switch e.ExtID {
		case ExtHandshakeID:
			return ParseExtensionHandshake(e)
		case pexTestID:
			return ParsePex(e)
		}
		return ParseMetadata(e)
	}
	m, err := parse(ext)
	if err != nil {
		var be *BencodeError
		if !errors.As(err, &be) && !errors.Is(err, ErrMetadata) && !errors.Is(err, ErrUnknownMetadataType) && !errors.Is(err, ErrPex) {
			t.Fatalf("error of an unexpected kind: %v", err)
		}
		return
	}
	enc := m.AppendTo(nil)
	// What we write is canonical bencode: sorted keys, each once.
	d := bencode.NewDecoder(enc[6:])
	d.SortedKeys = true
	if err := d.Skip(); err != nil {
		t.Fatalf("%#v encodes to %q, not canonical bencode: %v", m, enc, err)
	}
	r := NewReader(bytes.NewReader(enc), ReaderConfig{})
	back, err := r.ReadMessage()
	if err != nil {
		t.Fatalf("%#v encodes to %q, which does not read: %v", m, enc, err)
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("%#v encodes to %q, more than one message", m, enc)
	}
	again, err := parse(back.(*Extended))
	if err != nil {
		t.Fatalf("%#v encodes to %q, which does not parse: %v", m, enc, err)
	}
	if !reflect.DeepEqual(clone(again), clone(m)) {
		t.Fatalf("parsed %#v, encoded %q, parsed back %#v", m, enc, again)
	}
}

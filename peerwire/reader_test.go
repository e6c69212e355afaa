package peerwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
	"time"

	"github.com/bitorigin/bitorigin/bitfield"
)

// frame builds a message from its length prefix, ID and payload, without
// the encoders, so that any length can be claimed.
func frame(length uint32, id ID, payload ...byte) []byte {
	return append(append(binary.BigEndian.AppendUint32(nil, length), byte(id)), payload...)
}

func readErr(in []byte, cfg ReaderConfig) error {
	_, err := NewReader(bytes.NewReader(in), cfg).ReadMessage()
	return err
}

func TestReaderRejectsWrongFixedLengths(t *testing.T) {
	for _, tc := range []struct {
		id     ID
		length uint32
	}{
		{IDChoke, 2}, {IDUnchoke, 5}, {IDInterested, 2}, {IDNotInterested, 2},
		{IDHaveAll, 2}, {IDHaveNone, 13},
		{IDHave, 4}, {IDHave, 6}, {IDSuggest, 1}, {IDAllowedFast, 9},
		{IDRequest, 12}, {IDRequest, 14}, {IDCancel, 5}, {IDReject, 17},
		{IDPort, 2}, {IDPort, 5},
	} {
		in := frame(tc.length, tc.id, make([]byte, 20)...)
		if err := readErr(in, ReaderConfig{}); !errors.Is(err, ErrBadLength) {
			t.Errorf("%v message of length %d: err = %v, want ErrBadLength", tc.id, tc.length, err)
		}
	}
}

func TestReaderRejectsOversizedMessagesBeforeReadingThem(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    ReaderConfig
		length uint32
		id     ID
		max    uint32
	}{
		{"4 GiB piece", ReaderConfig{}, 0xffffffff, IDPiece, 9 + DefaultMaxBlock},
		{"4 GiB bitfield", ReaderConfig{}, 0xffffffff, IDBitfield, DefaultMaxExtended},
		{"4 GiB bitfield of a known torrent", ReaderConfig{Pieces: 100}, 0xffffffff, IDBitfield, 14},
		{"4 GiB extended", ReaderConfig{}, 0xffffffff, IDExtended, DefaultMaxExtended},
		{"4 GiB unknown", ReaderConfig{}, 0xffffffff, 99, DefaultMaxExtended},
		{"4 GiB request", ReaderConfig{}, 0xffffffff, IDRequest, 13},
		{"piece a byte over MaxBlock", ReaderConfig{MaxBlock: 16 << 10}, 9 + 16<<10 + 1, IDPiece, 9 + 16<<10},
		{"piece over the default max block", ReaderConfig{}, 9 + 128<<10 + 1, IDPiece, 9 + 128<<10},
		{"extended a byte over MaxExtended", ReaderConfig{MaxExtended: 1000}, 1001, IDExtended, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The body is absent: an error other than MessageTooLongError
			// (an unexpected EOF) would mean the Reader tried to read it.
			r := NewReader(bytes.NewReader(frame(tc.length, tc.id)), tc.cfg)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := r.ReadMessage()
			runtime.ReadMemStats(&after)
			var tl *MessageTooLongError
			if !errors.As(err, &tl) {
				t.Fatalf("err = %v, want a *MessageTooLongError", err)
			}
			if *tl != (MessageTooLongError{ID: tc.id, Length: tc.length, Max: tc.max}) {
				t.Fatalf("err = %+v, want ID %v Length %d Max %d", *tl, tc.id, tc.length, tc.max)
			}
			if !errors.Is(err, ErrBadLength) {
				t.Fatal("a MessageTooLongError does not match ErrBadLength")
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
				t.Fatalf("rejecting it allocated %d bytes", n)
			}
		})
	}
}

func TestReaderPieceLimitDoesNotOverflow(t *testing.T) {
	r := NewReader(bytes.NewReader(nil), ReaderConfig{MaxBlock: 0xffffffff - 3})
	if _, hi := r.limits(IDPiece); hi != 0xffffffff {
		t.Fatalf("piece limit with MaxBlock 2^32-4 = %d, want 2^32-1", hi)
	}
}

func TestReaderRejectsTooShortVariableMessages(t *testing.T) {
	for _, in := range [][]byte{
		frame(8, IDPiece, make([]byte, 7)...),
		frame(1, IDPiece),
		frame(1, IDExtended),
	} {
		if err := readErr(in, ReaderConfig{}); !errors.Is(err, ErrBadLength) {
			t.Errorf("%x: err = %v, want ErrBadLength", in, err)
		}
	}
}

func TestReaderChecksTheBitfieldAgainstTheTorrent(t *testing.T) {
	cfg := ReaderConfig{Pieces: 10} // 2 bytes, the last 6 bits spare
	for _, tc := range []struct {
		name string
		in   []byte
		want error
	}{
		{"one byte short", frame(2, IDBitfield, 0xff), ErrBadLength},
		{"one byte long", frame(4, IDBitfield, 0xff, 0xc0, 0x00), ErrBadLength},
		{"empty", frame(1, IDBitfield), ErrBadLength},
		{"last spare bit set", frame(3, IDBitfield, 0xff, 0xc1), bitfield.ErrSpareBits},
		{"first spare bit set", frame(3, IDBitfield, 0x00, 0x20), bitfield.ErrSpareBits},
		{"all pieces", frame(3, IDBitfield, 0xff, 0xc0), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := readErr(tc.in, cfg)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// Before the torrent is known (Pieces 0), any bitfield passes.
	if err := readErr(frame(3, IDBitfield, 0xff, 0xff), ReaderConfig{}); err != nil {
		t.Fatalf("bitfield with unknown piece count: %v", err)
	}
}

func TestReaderTruncatedMessage(t *testing.T) {
	request := (&Request{Index: 1, Begin: 2, Length: 3}).AppendTo(nil)
	piece := (&Piece{Index: 1, Block: make([]byte, 100)}).AppendTo(nil)
	ext := (&Extended{ExtID: 1, Payload: []byte("abc")}).AppendTo(nil)
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"half a length prefix", []byte{0, 0}},
		{"length without ID", request[:4]},
		{"request without its last byte", request[:len(request)-1]},
		{"piece without its index", piece[:7]},
		{"piece without its last byte", piece[:len(piece)-1]},
		{"extended without its payload", ext[:6]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := readErr(tc.in, ReaderConfig{}); !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
		})
	}
	if err := readErr(nil, ReaderConfig{}); err != io.EOF {
		t.Fatalf("empty stream: err = %v, want io.EOF unwrapped", err)
	}
}

func TestReaderReturnsUnknownMessagesAndCarriesOn(t *testing.T) {
	in := frame(4, 0x42, 'a', 'b', 'c')
	in = append(in, (&Have{Index: 5}).AppendTo(nil)...)
	r := NewReader(bytes.NewReader(in), ReaderConfig{})
	m, err := r.ReadMessage()
	if u, ok := m.(*Unknown); err != nil || !ok || u.ID != 0x42 || string(u.Payload) != "abc" {
		t.Fatalf("ReadMessage = %#v, %v; want Unknown 0x42 abc", m, err)
	}
	m, err = r.ReadMessage()
	if h, ok := m.(*Have); err != nil || !ok || h.Index != 5 {
		t.Fatalf("after the unknown message: %#v, %v", m, err)
	}
}

func TestReaderReadsAStreamOfMessages(t *testing.T) {
	var in []byte
	for _, tc := range goldenMessages {
		in = tc.msg.AppendTo(in)
	}
	r := NewReader(bytes.NewReader(in), ReaderConfig{})
	for _, tc := range goldenMessages {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := m.AppendTo(nil); !bytes.Equal(got, tc.msg.AppendTo(nil)) {
			t.Fatalf("%s: read %#v", tc.name, m)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("at the end: %v, want io.EOF", err)
	}
}

func TestReaderReadsBlocksIntoTheCallersBuffer(t *testing.T) {
	block := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	in := (&Piece{Index: 3, Begin: 16 << 10, Block: block}).AppendTo(nil)
	in = (&Piece{Index: 4, Begin: 0, Block: block[:100]}).AppendTo(in)
	pieceBuf := make([]byte, 64<<10)
	var asked []uint32
	r := NewReader(bytes.NewReader(in), ReaderConfig{BlockBuffer: func(index, begin, length uint32) []byte {
		asked = append(asked, index, begin, length)
		if index == 4 {
			return nil // the Reader's own buffer
		}
		return pieceBuf[begin:]
	}})
	m, err := r.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	p := m.(*Piece)
	if &p.Block[0] != &pieceBuf[16<<10] || len(p.Block) != len(block) || !bytes.Equal(p.Block, block) {
		t.Fatal("the block was not read into the caller's buffer")
	}
	if m, err = r.ReadMessage(); err != nil || !bytes.Equal(m.(*Piece).Block, block[:100]) {
		t.Fatalf("block into the Reader's buffer: %v", err)
	}
	if want := []uint32{3, 16 << 10, 16 << 10, 4, 0, 100}; !equalUint32s(asked, want) {
		t.Fatalf("BlockBuffer asked for %v, want %v", asked, want)
	}

	short := NewReader(bytes.NewReader(in), ReaderConfig{BlockBuffer: func(_, _, length uint32) []byte {
		return make([]byte, length-1)
	}})
	if _, err := short.ReadMessage(); err == nil {
		t.Fatal("a BlockBuffer one byte short was accepted")
	}
}

func equalUint32s(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestReaderWorksWhateverTheReadSizes(t *testing.T) {
	var in []byte
	for _, tc := range goldenMessages {
		in = tc.msg.AppendTo(in)
	}
	for _, tc := range goldenExtended {
		in = tc.msg.AppendTo(in)
	}
	in = (&Extended{ExtID: 1, Payload: bytes.Repeat([]byte("big"), 1000)}).AppendTo(in)
	in = (&Piece{Index: 1, Block: bytes.Repeat([]byte("block"), 1000)}).AppendTo(in)
	for _, tc := range []struct {
		name string
		r    io.Reader
	}{
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(in))},
		{"a 16-byte read buffer", bufio.NewReaderSize(bytes.NewReader(in), 16)},
		{"EOF with the last data", iotest.DataErrReader(bytes.NewReader(in))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(tc.r, ReaderConfig{})
			var out []byte
			for {
				m, err := r.ReadMessage()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("after %d bytes: %v", len(out), err)
				}
				out = m.AppendTo(out)
			}
			if !bytes.Equal(out, in) {
				t.Fatal("the messages read do not re-encode to the input")
			}
		})
	}
}

func TestReaderDeliversAKeepAliveWithoutWaitingForMore(t *testing.T) {
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write(KeepAlive{}.AppendTo(nil)) // and nothing after it
	done := make(chan error, 1)
	go func() {
		m, err := NewReader(pr, ReaderConfig{}).ReadMessage()
		if _, ok := m.(*KeepAlive); err == nil && !ok {
			err = errors.New("not a keep-alive")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadMessage waited for more than the keep-alive's 4 bytes")
	}
}

func TestReadsARequestWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates; `make test` runs this without -race")
	}
	r := NewReader(&repeatReader{b: (&Request{Index: 1, Begin: 2, Length: 3}).AppendTo(nil)}, ReaderConfig{})
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("ReadMessage of a request: %v allocations", n)
	}
}

// repeatReader reads b over and over, forever.
type repeatReader struct {
	b   []byte
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.b[r.off:])
		n += c
		r.off = (r.off + c) % len(r.b)
	}
	return n, nil
}

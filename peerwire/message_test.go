package peerwire

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

// goldenMessages are every message type with its bytes on the wire, written
// out by hand from the BEPs: length prefix, ID, payload.
var goldenMessages = []struct {
	name string
	msg  Message
	wire string // hex
}{
	{"keep-alive", &KeepAlive{}, "00000000"},
	{"choke", &Choke{}, "00000001 00"},
	{"unchoke", &Unchoke{}, "00000001 01"},
	{"interested", &Interested{}, "00000001 02"},
	{"not interested", &NotInterested{}, "00000001 03"},
	{"have", &Have{Index: 7}, "00000005 04 00000007"},
	{"bitfield", &Bitfield{Bits: []byte{0xff, 0x80}}, "00000003 05 ff80"},
	{"empty bitfield", &Bitfield{Bits: []byte{}}, "00000001 05"},
	{"request", &Request{Index: 1, Begin: 0x4000, Length: 0x4000}, "0000000d 06 00000001 00004000 00004000"},
	{"piece", &Piece{Index: 1, Begin: 2, Block: []byte("abc")}, "0000000c 07 00000001 00000002 616263"},
	{"empty piece", &Piece{Index: 0xffffffff, Begin: 0, Block: []byte{}}, "00000009 07 ffffffff 00000000"},
	{"cancel", &Cancel{Index: 2, Begin: 0x8000, Length: 0x4000}, "0000000d 08 00000002 00008000 00004000"},
	{"port", &Port{Port: 6881}, "00000003 09 1ae1"},
	{"suggest", &Suggest{Index: 3}, "00000005 0d 00000003"},
	{"have all", &HaveAll{}, "00000001 0e"},
	{"have none", &HaveNone{}, "00000001 0f"},
	{"reject request", &Reject{Index: 4, Begin: 0, Length: 0x20000}, "0000000d 10 00000004 00000000 00020000"},
	{"allowed fast", &AllowedFast{Index: 9}, "00000005 11 00000009"},
	{"extended", &Extended{ExtID: 3, Payload: []byte("hi")}, "00000004 14 03 6869"},
	{"extended, empty", &Extended{ExtID: 1, Payload: []byte{}}, "00000002 14 01"},
	{"unknown", &Unknown{ID: 0x42, Payload: []byte("x")}, "00000002 42 78"},
}

func TestMessagesEncodeToGoldenBytes(t *testing.T) {
	for _, tc := range goldenMessages {
		t.Run(tc.name, func(t *testing.T) {
			want := unhex(t, tc.wire)
			if got := tc.msg.AppendTo(nil); !bytes.Equal(got, want) {
				t.Fatalf("AppendTo = %x\n want %x", got, want)
			}
			prefix := []byte("prefix")
			if got := tc.msg.AppendTo(prefix); !bytes.Equal(got[:6], prefix) || !bytes.Equal(got[6:], want) {
				t.Fatalf("AppendTo(prefix) = %x, does not append", got)
			}
		})
	}
}

func TestGoldenBytesDecodeToTheirMessage(t *testing.T) {
	for _, tc := range goldenMessages {
		t.Run(tc.name, func(t *testing.T) {
			got := readOne(t, unhex(t, tc.wire), ReaderConfig{})
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("ReadMessage = %#v, want %#v", got, tc.msg)
			}
		})
	}
}

// goldenExtended are the extended messages whose payload this package
// decodes, with hand-written bencode.
var goldenExtended = []struct {
	name string
	msg  Message
	wire string // the length prefix, ID 20 and extended ID in hex, then the payload as text
}{
	{
		"extension handshake",
		&ExtensionHandshake{
			M:            map[string]uint8{"ut_pex": 1, "ut_metadata": 3},
			V:            "bitorigin 1.0",
			P:            6881,
			ReqQ:         250,
			YourIP:       netip.AddrFrom4([4]byte{1, 2, 3, 4}),
			MetadataSize: 31235,
			UploadOnly:   true,
		},
		"00000082 14 00" + "d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi250e" +
			"11:upload_onlyi1e1:v13:bitorigin 1.06:yourip4:\x01\x02\x03\x04e",
	},
	{"empty extension handshake", &ExtensionHandshake{M: map[string]uint8{}}, "00000009 14 00" + "d1:mdee"},
	{"ut_metadata request", &MetadataRequest{ExtID: 2, Piece: 1}, "0000001b 14 02" + "d8:msg_typei0e5:piecei1ee"},
	{
		"ut_metadata data",
		&MetadataData{ExtID: 2, Piece: 0, TotalSize: 3, Data: []byte("abc")},
		"0000002e 14 02" + "d8:msg_typei1e5:piecei0e10:total_sizei3eeabc",
	},
	{"ut_metadata reject", &MetadataReject{ExtID: 2, Piece: 5}, "0000001b 14 02" + "d8:msg_typei2e5:piecei5ee"},
}

// wire splits a goldenExtended wire string into its bytes.
func extendedWire(t *testing.T, s string) []byte {
	const header = len("00000082 14 00")
	return append(unhex(t, s[:header]), s[header:]...)
}

func TestExtendedMessagesEncodeToGoldenBytes(t *testing.T) {
	for _, tc := range goldenExtended {
		t.Run(tc.name, func(t *testing.T) {
			want := extendedWire(t, tc.wire)
			if got := tc.msg.AppendTo(nil); !bytes.Equal(got, want) {
				t.Fatalf("AppendTo = %q\n want %q", got, want)
			}
		})
	}
}

func TestGoldenExtendedBytesDecodeToTheirMessage(t *testing.T) {
	for _, tc := range goldenExtended {
		t.Run(tc.name, func(t *testing.T) {
			ext, ok := readOne(t, extendedWire(t, tc.wire), ReaderConfig{}).(*Extended)
			if !ok {
				t.Fatal("ReadMessage did not return an *Extended")
			}
			var got Message
			var err error
			if ext.ExtID == ExtHandshakeID {
				got, err = ParseExtensionHandshake(ext)
			} else {
				got, err = ParseMetadata(ext)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.msg) {
				t.Fatalf("decoded %#v\n want %#v", got, tc.msg)
			}
		})
	}
}

func TestHandshakeEncodesToGoldenBytes(t *testing.T) {
	var h Handshake
	h.Reserved.SetExtended()
	h.Reserved.SetFast()
	copy(h.InfoHash[:], "aaaaaaaaaaaaaaaaaaaa")
	copy(h.PeerID[:], "-BO0100-bbbbbbbbbbbb")
	want := append(unhex(t, "13"), "BitTorrent protocol"...)
	want = append(want, unhex(t, "0000000000100004")...)
	want = append(want, "aaaaaaaaaaaaaaaaaaaa-BO0100-bbbbbbbbbbbb"...)
	got := h.AppendTo(nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendTo = %x\n want %x", got, want)
	}
	if len(got) != HandshakeLen {
		t.Fatalf("len = %d, want HandshakeLen %d", len(got), HandshakeLen)
	}
	back, err := ReadHandshake(bytes.NewReader(want))
	if err != nil || back != h {
		t.Fatalf("ReadHandshake = %+v, %v; want %+v", back, err, h)
	}
}

func TestARejectIsBuiltFromTheRequestItAnswers(t *testing.T) {
	req := &Request{Index: 1, Begin: 2, Length: 3}
	if got := Reject(*req); got != (Reject{Index: 1, Begin: 2, Length: 3}) {
		t.Fatalf("Reject(*req) = %+v", got)
	}
}

func TestIDNamesFollowTheBEPs(t *testing.T) {
	for id, want := range map[ID]string{IDRequest: "request", IDReject: "reject request", IDExtended: "extended", 42: "unknown (42)", 255: "unknown (255)"} {
		if got := id.String(); got != want {
			t.Errorf("ID(%d).String() = %q, want %q", id, got, want)
		}
	}
}

package peerwire

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/bencode"
)

func parseHandshake(payload string) (*ExtensionHandshake, error) {
	return ParseExtensionHandshake(&Extended{ExtID: ExtHandshakeID, Payload: []byte(payload)})
}

func TestExtensionHandshakeToleratesUnknownAndMistypedKeys(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     ExtensionHandshake
	}{
		{
			"unknown keys of every type",
			"d1:ai1e1:bl1:xi2eld1:yleeee2:ccd1:zi3ee1:md11:ut_metadatai2ee1:v4:qBit" +
				"4:ipv64:abcd12:complete_agoi-1e1:pi51413ee",
			ExtensionHandshake{M: map[string]uint8{"ut_metadata": 2}, V: "qBit", P: 51413},
		},
		{
			"known keys with values of the wrong type",
			"d1:mi1e1:v3:abc1:p4:80804:reqqle13:metadata_size2:1011:upload_onlyde6:yourip3:abce",
			ExtensionHandshake{M: map[string]uint8{}, V: "abc"},
		},
		{
			"values out of range",
			"d1:md1:ai256e1:bi-1e1:ci0e1:d5:hello1:ei255ee1:pi65536e4:reqqi-5e13:metadata_sizei99999999999eee",
			ExtensionHandshake{M: map[string]uint8{"c": 0, "e": 255}},
		},
		{
			"integers too big for int64",
			"d1:pi99999999999999999999999e4:reqqi-99999999999999999999ee",
			ExtensionHandshake{M: map[string]uint8{}},
		},
		{
			"IPv6 yourip, keys unsorted, upload_only 2",
			"d6:yourip16:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x0111:upload_onlyi2e1:md6:ut_pexi1eee",
			ExtensionHandshake{
				M:          map[string]uint8{"ut_pex": 1},
				YourIP:     netip.MustParseAddr("2001:db8::1"),
				UploadOnly: true,
			},
		},
		{"trailing bytes after the dictionary", "d1:pi1eegarbage", ExtensionHandshake{M: map[string]uint8{}, P: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHandshake(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestExtensionHandshakeRejectsBadBencode(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		offset   int
	}{
		{"empty", "", 0},
		{"not a dictionary", "li1ee", 0},
		{"unterminated dictionary", "d1:pi1e", 7},
		{"integer key", "di1ei2ee", 1},
		{"integer without digits", "d1:pie", 4},
		{"unterminated integer", "d1:pi12", 7},
		{"leading zero", "d1:pi01ee", 4},
		{"negative zero", "d1:pi-0ee", 4},
		{"string past the end", "d1:v10:abce", 4},
		{"string length with a leading zero", "d1:v03:abce", 4},
		{"string length without a colon", "d1:v3abce", 5},
		{"key without a value", "d1:pe", 4},
		{"unknown type byte", "d1:xx1:ye", 4},
		{"nested too deep", "d1:x" + strings.Repeat("l", 100) + strings.Repeat("e", 100) + "e", 4 + bencode.MaxDepth - 1},
		{"unterminated list", "d1:xli1e", 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseHandshake(tc.in)
			var be *BencodeError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a *BencodeError", err)
			}
			if be.Offset != tc.offset {
				t.Fatalf("error %q at offset %d, want %d", be, be.Offset, tc.offset)
			}
		})
	}
}

func TestParseExtensionHandshakeWantsExtendedMessageZero(t *testing.T) {
	if _, err := ParseExtensionHandshake(&Extended{ExtID: 1, Payload: []byte("de")}); err == nil {
		t.Fatal("extended message 1 parsed as a handshake")
	}
}

func TestExtensionHandshakeWritesIPv4MappedAddressesAs16Bytes(t *testing.T) {
	h := ExtensionHandshake{YourIP: netip.MustParseAddr("::ffff:1.2.3.4")}
	if got := string(h.AppendTo(nil)[6:]); got != "d1:mde6:yourip16:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x01\x02\x03\x04e" {
		t.Fatalf("encoded %q", got)
	}
}

func TestExtensionMessagesAppendWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	data := make([]byte, MetadataPieceSize)
	pex := Pex{ExtID: 2,
		Added:   []PexPeer{{netip.MustParseAddrPort("1.2.3.4:5"), PexSeed}, {netip.MustParseAddrPort("[2001:db8::1]:6"), 0}},
		Dropped: []netip.AddrPort{netip.MustParseAddrPort("5.6.7.8:9"), netip.MustParseAddrPort("[2001:db8::2]:7")},
	}
	buf := make([]byte, 0, 2*MetadataPieceSize)
	for name, msg := range map[string]interface{ AppendTo([]byte) []byte }{
		"ut_metadata request": MetadataRequest{ExtID: 2, Piece: 3},
		"ut_metadata data":    MetadataData{ExtID: 2, Piece: 0, TotalSize: len(data), Data: data},
		"ut_metadata reject":  MetadataReject{ExtID: 2, Piece: 3},
		"ut_pex":              pex,
	} {
		if n := testing.AllocsPerRun(100, func() { buf = msg.AppendTo(buf[:0]) }); n != 0 {
			t.Errorf("%s: %v allocations", name, n)
		}
	}
}

func TestParseMetadataWithoutAllocatingBeyondTheMessage(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	req := &Extended{ExtID: 3, Payload: []byte("d1:xld1:yi1eee8:msg_typei0e5:piecei7ee")}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseMetadata(req); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Fatalf("%v allocations, want 1 for the *MetadataRequest", n)
	}
}

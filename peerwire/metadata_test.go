package peerwire

import (
	"errors"
	"strings"
	"testing"
)

func parseMetadata(payload string) (Message, error) {
	return ParseMetadata(&Extended{ExtID: 3, Payload: []byte(payload)})
}

func TestParseMetadataChecksTheDataAgainstTotalSize(t *testing.T) {
	full := strings.Repeat("x", MetadataPieceSize)
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"whole first piece", "d8:msg_typei1e5:piecei0e10:total_sizei20000ee" + full, true},
		{"short last piece", "d8:msg_typei1e5:piecei1e10:total_sizei20000ee" + full[:20000-MetadataPieceSize], true},
		{"first piece one byte short", "d8:msg_typei1e5:piecei0e10:total_sizei20000ee" + full[1:], false},
		{"last piece one byte long", "d8:msg_typei1e5:piecei1e10:total_sizei20000ee" + full[:20001-MetadataPieceSize], false},
		{"piece past the end", "d8:msg_typei1e5:piecei2e10:total_sizei20000eex", false},
		{"no total_size", "d8:msg_typei1e5:piecei0eex", false},
		{"zero total_size", "d8:msg_typei1e5:piecei0e10:total_sizei0ee", false},
		{"negative piece", "d8:msg_typei1e5:piecei-1e10:total_sizei1eex", false},
		{"piece over 2^32", "d8:msg_typei0e5:piecei4294967296ee", false},
		{"no piece", "d8:msg_typei0ee", false},
		{"no msg_type", "d5:piecei0ee", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := parseMetadata(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if d := m.(*MetadataData); d.ExtID != 3 || d.TotalSize != 20000 {
					t.Fatalf("parsed %+v", d)
				}
				return
			}
			if !errors.Is(err, ErrMetadata) {
				t.Fatalf("err = %v, want ErrMetadata", err)
			}
		})
	}
}

func TestParseMetadataLeavesUnknownTypesToTheCaller(t *testing.T) {
	_, err := parseMetadata("d8:msg_typei3e5:piecei0ee")
	if !errors.Is(err, ErrUnknownMetadataType) {
		t.Fatalf("err = %v, want ErrUnknownMetadataType", err)
	}
}

func TestParseMetadataRejectsBadBencode(t *testing.T) {
	var be *BencodeError
	if _, err := parseMetadata("d8:msg_typei0e5:piecei0e"); !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BencodeError", err)
	}
}

func TestParseMetadataToleratesExtraKeys(t *testing.T) {
	m, err := parseMetadata("d8:msg_typei2e5:piecei7e10:total_sizei5e1:xli1eee")
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := m.(*MetadataReject); !ok || *r != (MetadataReject{ExtID: 3, Piece: 7}) {
		t.Fatalf("parsed %#v", m)
	}
}

package metainfo

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"reflect"
	"slices"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or loop, and that
// whatever it accepts survives encoding with the same info hash and fields.
// The seed corpus in testdata/fuzz/FuzzParse holds v1, v2 and hybrid
// torrents made by mktorrent, libtorrent and this package, and broken
// variants of them.
func FuzzParse(f *testing.F) {
	top, _ := multiFile()
	f.Add([]byte(benc(top)))
	top, _ = singleFile()
	f.Add([]byte(benc(top)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tor, err := Parse(data)
		if err != nil {
			return
		}
		v1, hasV1 := tor.InfoHashV1()
		v2, hasV2 := tor.InfoHashV2()
		switch {
		case !hasV1 && !hasV2:
			t.Fatal("neither a v1 nor a v2 torrent")
		case hasV1 && (v1 != InfoHash(sha1.Sum(tor.InfoBytes())) || tor.InfoHash() != v1):
			t.Fatal("v1 info hash is not the SHA-1 of InfoBytes")
		case hasV2 && v2 != InfoHashV2(sha256.Sum256(tor.InfoBytes())):
			t.Fatal("v2 info hash is not the SHA-256 of InfoBytes")
		case !hasV1 && tor.InfoHash() != v2.Truncate():
			t.Fatal("a v2-only torrent's InfoHash is not its truncated v2 info hash")
		case tor.Info.NumPieces() != 0 && tor.Info.TotalLength() <= 0:
			t.Fatal("pieces without data")
		}
		if len(tor.Info.FileList()) == 0 {
			t.Fatal("no files")
		}
		if !bytes.Contains(data, tor.InfoBytes()) {
			t.Fatal("InfoBytes are not a part of the input")
		}
		enc, err := tor.Encode()
		if err != nil {
			t.Fatalf("Encode of a parsed torrent: %v", err)
		}
		back, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Encode(t)): %v", err)
		}
		if back.InfoHash() != tor.InfoHash() {
			t.Fatal("encoding changed the info hash")
		}
		if !reflect.DeepEqual(back.Info, tor.Info) || back.Comment != tor.Comment || !reflect.DeepEqual(back.PieceLayers, tor.PieceLayers) ||
			!slices.Equal(back.WebSeeds, tor.WebSeeds) || !reflect.DeepEqual(back.Trackers(), tor.Trackers()) {
			t.Fatalf("encoding changed fields:\n%+v\n%+v", tor, back)
		}
	})
}

// FuzzParseMagnet checks that no input makes ParseMagnet panic and that
// every link it accepts round-trips through String.
func FuzzParseMagnet(f *testing.F) {
	f.Add("magnet:?xt=urn:btih:" + testHashHex + "&dn=a+b&tr=http%3A%2F%2Fa%2F&ws=http://w/")
	f.Add("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK")
	f.Fuzz(func(t *testing.T, link string) {
		m, err := ParseMagnet(link)
		if err != nil {
			return
		}
		back, err := ParseMagnet(m.String())
		if err != nil {
			t.Fatalf("ParseMagnet(%q): %v", m.String(), err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("round trip changed %+v into %+v", m, back)
		}
	})
}

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
	f.Fuzz(checkParse)
}

// checkParse parses data and, when Parse accepts it, checks what must
// hold of every torrent it returns.
func checkParse(t *testing.T, data []byte) {
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
	case tor.Info.NumPieces() == 0 || tor.Info.TotalLength() <= 0:
		t.Fatal("a torrent without pieces or data")
	}
	if !bytes.Contains(data, tor.InfoBytes()) {
		t.Fatal("InfoBytes are not a part of the input")
	}
	// Every piece of a v2 file is where the layout says.
	var end int64
	for _, f := range tor.Info.FileList() {
		if f.Offset != end {
			t.Fatalf("file %q at %d, after data ending at %d", f.Path, f.Offset, end)
		}
		end += f.Length
	}
	for _, f := range tor.Info.FileTree {
		if f.Length > 0 && (f.Offset%tor.Info.PieceLength != 0 || f.Offset+f.Length > end) {
			t.Fatalf("tree file %q at %d (%d bytes) in %d bytes", f.Path, f.Offset, f.Length, end)
		}
	}
	enc, err := tor.Encode()
	if err != nil {
		t.Fatalf("Encode of a parsed torrent: %v", err)
	}
	back, err := Parse(enc)
	if err != nil {
		t.Fatalf("Parse(Encode(t)): %v", err)
	}
	if back.InfoHash() != tor.InfoHash() || back.infoHashV2 != tor.infoHashV2 {
		t.Fatal("encoding changed an info hash")
	}
	if !reflect.DeepEqual(back.Info, tor.Info) || back.Comment != tor.Comment || !reflect.DeepEqual(back.PieceLayers, tor.PieceLayers) ||
		!slices.Equal(back.WebSeeds, tor.WebSeeds) || !reflect.DeepEqual(back.Trackers(), tor.Trackers()) {
		t.Fatalf("encoding changed fields:\n%+v\n%+v", tor, back)
	}
}

// FuzzParseFileTree puts fuzzed bytes where a v2 torrent's file tree and
// piece layers go, so that the fuzzer spends its time on the BEP 52 parts
// rather than on the envelope around them. The seed corpus in
// testdata/fuzz/FuzzParseFileTree holds trees and layers Create made, and
// broken ones.
func FuzzParseFileTree(f *testing.F) {
	top := createdTorrent(f, V2, false)
	tree, layers := benc(treeOf(top)), benc(layersOf(top))
	f.Add([]byte(tree), []byte(layers))
	f.Add([]byte(tree), []byte("de"))
	f.Fuzz(func(t *testing.T, tree, layers []byte) {
		var b bytes.Buffer
		b.WriteString("d4:infod9:file tree")
		b.Write(tree)
		b.WriteString("12:meta versioni2e4:name3:set12:piece lengthi16384ee12:piece layers")
		b.Write(layers)
		b.WriteString("e")
		checkParse(t, b.Bytes())
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

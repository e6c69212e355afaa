package peerwire

import (
	"net/netip"
	"testing"
)

// The extension messages a seeder writes and reads on every connection:
// ut_metadata requests and answers, and ut_pex once a minute per peer.

func BenchmarkAppendPex(b *testing.B) {
	m := Pex{ExtID: 2}
	for i := range 25 {
		m.Added = append(m.Added, PexPeer{netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 6881), PexSeed})
		m.Added = append(m.Added, PexPeer{netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 15: byte(i)}), 6881), 0})
	}
	for i := range 10 {
		m.Dropped = append(m.Dropped, netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}), 6881))
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendTo(buf[:0])
	}
}

func BenchmarkAppendMetadataData(b *testing.B) {
	data := make([]byte, MetadataPieceSize)
	buf := make([]byte, 0, 2*MetadataPieceSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = MetadataData{ExtID: 2, Piece: 3, TotalSize: 10 * MetadataPieceSize, Data: data}.AppendTo(buf[:0])
	}
}

func BenchmarkParseMetadataRequest(b *testing.B) {
	m := &Extended{ExtID: 2, Payload: []byte("d8:msg_typei0e5:piecei7ee")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMetadata(m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseExtensionHandshake(b *testing.B) {
	m := &Extended{ExtID: ExtHandshakeID, Payload: []byte("d1:md11:ut_metadatai3e6:ut_pexi1ee13:metadata_sizei31235e1:pi6881e4:reqqi250e1:v13:bitorigin 1.0e")}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseExtensionHandshake(m); err != nil {
			b.Fatal(err)
		}
	}
}

package peerwire

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

// pexTestID is the ut_pex ID the tests and the fuzz target use.
const pexTestID = 2

func TestPexEncodesEachFamilyInItsOwnListsInSortedKeyOrder(t *testing.T) {
	m := Pex{ExtID: pexTestID,
		Added: []PexPeer{
			{netip.MustParseAddrPort("127.0.0.1:6881"), PexReachable},
			{netip.MustParseAddrPort("[::1]:6882"), 0},
		},
		Dropped: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:6883")},
	}
	enc := m.AppendTo(nil)
	want := "\x00\x00\x00\x5a\x14\x02" +
		"d5:added6:\x7f\x00\x00\x01\x1a\xe1" + "7:added.f1:\x10" +
		"6:added618:\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x1a\xe2" + "8:added6.f1:\x00" +
		"7:dropped6:\x0a\x00\x00\x01\x1a\xe3e"
	if string(enc) != want {
		t.Fatalf("encoded %q\nwant    %q", enc, want)
	}
	got, err := ParsePex(&Extended{ExtID: pexTestID, Payload: enc[6:]})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*got, m) {
		t.Fatalf("parsed %+v, want %+v", *got, m)
	}
}

func TestPexRefusesPartialAddresses(t *testing.T) {
	for _, payload := range []string{"d5:added5:\x7f\x00\x00\x01\x1ae", "d8:dropped617:" + string(make([]byte, 17)) + "e"} {
		if _, err := ParsePex(&Extended{ExtID: pexTestID, Payload: []byte(payload)}); !errors.Is(err, ErrPex) {
			t.Errorf("%q: err %v, want ErrPex", payload, err)
		}
	}
}

func TestPexFlagsMissingForSomePeersAreZero(t *testing.T) {
	p, err := ParsePex(&Extended{ExtID: pexTestID, Payload: []byte("d5:added12:\x01\x02\x03\x04\x00\x01\x05\x06\x07\x08\x00\x027:added.f1:\x02e")})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Added) != 2 || p.Added[0].Flags != PexSeed || p.Added[1].Flags != 0 {
		t.Fatalf("added %+v", p.Added)
	}
}

func TestPexEncodingOfMixedFamiliesIsUnchanged(t *testing.T) {
	// Written by the encoder before package bencode, which gathered each
	// list in a buffer of its own; the bytes must not change.
	for _, tc := range []struct {
		m    Pex
		want string
	}{
		{
			Pex{ExtID: 7,
				Added: []PexPeer{
					{netip.MustParseAddrPort("[2001:db8::1]:1"), PexUTP},
					{netip.MustParseAddrPort("1.2.3.4:2"), PexSeed},
					{netip.MustParseAddrPort("[2001:db8::2]:3"), 0},
					{netip.MustParseAddrPort("5.6.7.8:4"), PexReachable | PexPrefersEncryption},
				},
				Dropped: []netip.AddrPort{
					netip.MustParseAddrPort("[2001:db8::3]:5"),
					netip.MustParseAddrPort("9.9.9.9:6"),
					netip.MustParseAddrPort("[::ffff:1.1.1.1]:7"),
				},
			},
			"\x00\x00\x00\xa6\x14\ad5:added12:\x01\x02\x03\x04\x00\x02\x05\x06\a\b\x00\x047:added.f2:\x02\x116:added636: \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x01 \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x038:added6.f2:\x04\x007:dropped6:\t\t\t\t\x00\x068:dropped636: \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x01\x01\x01\x01\x00\ae",
		},
		{
			Pex{ExtID: 3, Dropped: []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::3]:5")}},
			"\x00\x00\x00#\x14\x03d8:dropped618: \x01\r\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x05e",
		},
		{Pex{ExtID: 3}, "\x00\x00\x00\x04\x14\x03de"},
	} {
		if got := string(tc.m.AppendTo(nil)); got != tc.want {
			t.Errorf("encoded %q\nwant    %q", got, tc.want)
		}
	}
}

package metainfo

import (
	"reflect"
	"strings"
	"testing"
)

const testHashHex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a"

const testHashV2Hex = "ed26e5d998edcf72370a7501bf0d8058d32b47311dbf8c97a79a112a97428f1a"

func TestMagnetStringHasEveryTrackerAndWebSeed(t *testing.T) {
	top, _ := singleFile()
	top["announce-list"] = []any{[]string{"http://a/announce", "http://b/announce"}, []string{"udp://c:6969", "http://a/announce"}}
	top["url-list"] = "http://ws/files/"
	tor, err := Parse([]byte(benc(top)))
	if err != nil {
		t.Fatal(err)
	}
	want := "magnet:?xt=urn:btih:" + tor.InfoHash().String() + "&dn=movie.mkv" +
		"&tr=http%3A%2F%2Fa%2Fannounce&tr=http%3A%2F%2Fb%2Fannounce&tr=udp%3A%2F%2Fc%3A6969" +
		"&ws=http%3A%2F%2Fws%2Ffiles%2F"
	if got := tor.Magnet().String(); got != want {
		t.Fatalf("Magnet() =\n%s\nwant\n%s", got, want)
	}
}

func TestMagnetEscapesSpacesAsPercent20(t *testing.T) {
	m := Magnet{Name: "a b&c+d"}
	if got := m.String(); !strings.HasSuffix(got, "&dn=a%20b%26c%2Bd") {
		t.Fatalf("String() = %s", got)
	}
}

func TestParseMagnet(t *testing.T) {
	hash, err := ParseInfoHash(testHashHex)
	if err != nil {
		t.Fatal(err)
	}
	hashV2, err := ParseInfoHashV2(testHashV2Hex)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		link string
		want Magnet
	}{
		{"hex", "magnet:?xt=urn:btih:" + testHashHex, Magnet{InfoHash: hash}},
		{"upper-case hex and scheme", "MAGNET:?xt=urn:btih:" + strings.ToUpper(testHashHex), Magnet{InfoHash: hash}},
		{"base32", "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", Magnet{InfoHash: hash}},
		{"lower-case base32", "magnet:?xt=urn:btih:yex6dqdlxisuvhoj6um3gnnkpqjwpkek", Magnet{InfoHash: hash}},
		{"everything", "magnet:?xt=urn:btih:" + testHashHex + "&dn=My+Film%20(2024)&tr=http%3A%2F%2Fa%2Fannounce&tr.1=udp://b:1&ws=http://ws/&x.pe=1.2.3.4:5",
			Magnet{InfoHash: hash, Name: "My Film (2024)", Trackers: []string{"http://a/announce", "udp://b:1"}, WebSeeds: []string{"http://ws/"}}},
		{"v2 hash beside v1", "magnet:?xt=urn:btmh:1220" + testHashV2Hex + "&xt=urn:btih:" + testHashHex, Magnet{InfoHash: hash, InfoHashV2: hashV2}},
		{"v2 hash alone", "magnet:?xt=urn:btmh:1220" + strings.ToUpper(testHashV2Hex) + "&dn=x", Magnet{InfoHashV2: hashV2, Name: "x"}},
		{"other multihash ignored", "magnet:?xt=urn:btmh:1114" + testHashHex + "&xt=urn:btih:" + testHashHex, Magnet{InfoHash: hash}},
		{"same hash twice", "magnet:?xt=urn:btih:" + testHashHex + "&xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", Magnet{InfoHash: hash}},
		{"empty values dropped", "magnet:?xt=urn:btih:" + testHashHex + "&tr=&ws=&&dn=", Magnet{InfoHash: hash}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMagnet(tt.link)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseMagnet() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseMagnetRejects(t *testing.T) {
	tests := []struct{ name, link, mention string }{
		{"other scheme", "http://x/?xt=urn:btih:" + testHashHex, "magnet:?"},
		{"no info hash", "magnet:?dn=x", "urn:btih"},
		{"short v2 hash", "magnet:?xt=urn:btmh:1220abcd", "64 hex"},
		{"bad v2 hex", "magnet:?xt=urn:btmh:1220" + strings.Repeat("g", 64), "v2 info hash"},
		{"two different v2 hashes", "magnet:?xt=urn:btmh:1220" + testHashV2Hex + "&xt=urn:btmh:1220" + strings.Repeat("0", 64), "two different v2"},
		{"short hash", "magnet:?xt=urn:btih:abcd", "40 hex"},
		{"bad hex", "magnet:?xt=urn:btih:" + strings.Repeat("g", 40), "info hash"},
		{"bad base32", "magnet:?xt=urn:btih:" + strings.Repeat("1", 32), "info hash"},
		{"two different hashes", "magnet:?xt=urn:btih:" + testHashHex + "&xt=urn:btih:" + strings.Repeat("0", 40), "two different"},
		{"bad escape", "magnet:?xt=urn:btih:" + testHashHex + "&dn=%zz", "dn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMagnet(tt.link)
			if err == nil {
				t.Fatalf("ParseMagnet accepted %q: %+v", tt.link, m)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestMagnetRoundTrip(t *testing.T) {
	hash, _ := ParseInfoHash(testHashHex)
	hashV2, _ := ParseInfoHashV2(testHashV2Hex)
	for _, hashes := range []Magnet{{InfoHash: hash}, {InfoHashV2: hashV2}, {InfoHash: hash, InfoHashV2: hashV2}} {
		m := hashes
		m.Name, m.Trackers, m.WebSeeds = "ä b/c?&=", []string{"http://a/announce?x=1&y=2", "udp://b:1"}, []string{"http://ws/a b/"}
		got, err := ParseMagnet(m.String())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("round trip = %+v, want %+v", got, m)
		}
	}
}

func TestMagnetOfAV2TorrentHasOnlyBtmhAndOfAHybridBoth(t *testing.T) {
	hash, _ := ParseInfoHash(testHashHex)
	hashV2, _ := ParseInfoHashV2(testHashV2Hex)
	if got, want := (Magnet{InfoHashV2: hashV2}).String(), "magnet:?xt=urn:btmh:1220"+testHashV2Hex; got != want {
		t.Fatalf("v2 magnet %s, want %s", got, want)
	}
	want := "magnet:?xt=urn:btih:" + testHashHex + "&xt=urn:btmh:1220" + testHashV2Hex + "&dn=x"
	if got := (Magnet{InfoHash: hash, InfoHashV2: hashV2, Name: "x"}).String(); got != want {
		t.Fatalf("hybrid magnet %s, want %s", got, want)
	}
}

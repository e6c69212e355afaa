package metainfo

import (
	"bytes"
	"crypto/sha1"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseReadsEveryField(t *testing.T) {
	top, info := multiFile()
	info["private"] = 1
	info["source"] = "example.org"
	top["announce-list"] = []any{
		[]string{"http://a.example/announce", "udp://b.example:6969"},
		[]string{"https://c.example/announce"},
	}
	top["url-list"] = []string{"http://ws1.example/", "http://ws2.example/"}
	top["comment"] = "first pressing"
	top["created by"] = "test/1"
	top["creation date"] = 1700000000

	tor, err := Parse([]byte(benc(top)))
	if err != nil {
		t.Fatal(err)
	}
	want := &Torrent{
		Info: Info{
			Name:        "album",
			PieceLength: 16384,
			Pieces:      []byte(strings.Repeat("h", 80)),
			Private:     true,
			Source:      "example.org",
			Files: []File{
				{Path: []string{"disc1", "a.flac"}, Length: 40000, Offset: 0},
				{Path: []string{"cover.jpg"}, Length: 10000, Offset: 40000},
			},
		},
		Announce: "http://tracker.example/announce",
		AnnounceList: [][]string{
			{"http://a.example/announce", "udp://b.example:6969"},
			{"https://c.example/announce"},
		},
		WebSeeds:     []string{"http://ws1.example/", "http://ws2.example/"},
		Comment:      "first pressing",
		CreatedBy:    "test/1",
		CreationDate: time.Unix(1700000000, 0).UTC(),
	}
	want.infoBytes = []byte(benc(info))
	want.infoHash = sha1.Sum(want.infoBytes)
	if !reflect.DeepEqual(tor, want) {
		t.Fatalf("Parse() =\n%+v\nwant\n%+v", tor, want)
	}
	if got := tor.Info.TotalLength(); got != 50000 {
		t.Errorf("TotalLength() = %d, want 50000", got)
	}
	if got := tor.Info.PieceSize(3); got != 50000-3*16384 {
		t.Errorf("PieceSize(last) = %d", got)
	}
}

func TestParseAcceptsWebSeedAsStringOrList(t *testing.T) {
	for _, v := range []any{"http://ws.example/", []string{"http://ws.example/"}} {
		top, _ := singleFile()
		top["url-list"] = v
		tor, err := Parse([]byte(benc(top)))
		if err != nil {
			t.Fatalf("url-list %v: %v", v, err)
		}
		if !reflect.DeepEqual(tor.WebSeeds, []string{"http://ws.example/"}) {
			t.Fatalf("url-list %v: WebSeeds = %q", v, tor.WebSeeds)
		}
	}
}

func TestTrackersPreferAnnounceListOverAnnounce(t *testing.T) {
	tests := []struct {
		name string
		tor  Torrent
		want [][]string
	}{
		{"announce only", Torrent{Announce: "http://a/"}, [][]string{{"http://a/"}}},
		{"announce-list wins", Torrent{Announce: "http://a/", AnnounceList: [][]string{{"http://b/"}, {"http://c/"}}}, [][]string{{"http://b/"}, {"http://c/"}}},
		{"empty tiers dropped", Torrent{Announce: "http://a/", AnnounceList: [][]string{{}, {""}}}, [][]string{{"http://a/"}}},
		{"none", Torrent{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.tor.Trackers(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Trackers() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestInfoHashIsOverTheInfoBytesAsWritten(t *testing.T) {
	// Keys this package does not know and a "private" of 0 would both be
	// lost or changed by a re-encoding; the hash must not notice.
	info := "d5:filesld6:lengthi40000e6:md5sum32:0123456789abcdef0123456789abcdef4:pathl1:aeed6:lengthi10000e4:pathl1:beee" +
		"4:name5:album12:piece lengthi16384e6:pieces80:" + strings.Repeat("h", 80) + "7:privatei0e1:xli1ei2eee"
	data := "d8:announce3:url4:info" + info + "e"
	tor, err := Parse([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(tor.InfoBytes(), []byte(info)) {
		t.Fatalf("InfoBytes() = %q, want the input's info value", tor.InfoBytes())
	}
	if tor.InfoHash() != InfoHash(sha1.Sum([]byte(info))) {
		t.Fatalf("InfoHash() = %s, want SHA-1 of the info value", tor.InfoHash())
	}
}

func TestEncodeGivesBackCanonicalInputByteForByte(t *testing.T) {
	top, info := multiFile()
	info["private"] = 1
	top["announce-list"] = []any{[]string{"http://a/", "http://b/"}, []string{"http://c/"}}
	top["url-list"] = "http://ws/"
	top["comment"] = "c"
	top["created by"] = "x"
	top["creation date"] = 1
	top["nodes"] = []any{[]any{"router.example", 6881}} // unknown to this package
	for _, data := range []string{benc(top), func() string { s, _ := singleFile(); return benc(s) }()} {
		tor, err := Parse([]byte(data))
		if err != nil {
			t.Fatal(err)
		}
		got, err := tor.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != data {
			t.Fatalf("Encode(Parse(x)) =\n%q\nwant\n%q", got, data)
		}
	}
}

func TestSetInfoReencodesAndRehashes(t *testing.T) {
	top, _ := singleFile()
	tor, err := Parse([]byte(benc(top)))
	if err != nil {
		t.Fatal(err)
	}
	old := tor.InfoHash()
	in := tor.Info
	in.Private = true
	if err := tor.SetInfo(in); err != nil {
		t.Fatal(err)
	}
	if tor.InfoHash() == old || !tor.Info.Private {
		t.Fatal("SetInfo did not change the info hash")
	}
	again, err := tor.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(again)
	if err != nil {
		t.Fatal(err)
	}
	if back.InfoHash() != tor.InfoHash() || !back.Info.Private {
		t.Fatalf("re-parsed %s private=%v, want %s private", back.InfoHash(), back.Info.Private, tor.InfoHash())
	}
	bad := in
	bad.Name = ".."
	if err := tor.SetInfo(bad); err == nil {
		t.Fatal("SetInfo accepted name \"..\"")
	}
}

// TestParseRejectsHostileTorrents checks every rule with an input that
// breaks only that rule, and that the error names the field.
func TestParseRejectsHostileTorrents(t *testing.T) {
	type mutate func(top, info map[string]any)
	files := func(fs ...map[string]any) []any {
		var l []any
		for _, f := range fs {
			l = append(l, f)
		}
		return l
	}
	file := func(length int64, path ...string) map[string]any {
		return map[string]any{"length": length, "path": path}
	}
	pathTests := map[string]string{
		"empty path component":    "",
		"dot path component":      ".",
		"dot-dot path component":  "..",
		"absolute path component": "/etc",
		"slash in component":      "a/b",
		"backslash in component":  `a\b`,
		"NUL in component":        "a\x00b",
	}
	tests := []struct {
		name   string
		multi  bool
		mutate mutate
		field  string
	}{
		{"name is dot-dot", false, func(_, in map[string]any) { in["name"] = ".." }, "info.name"},
		{"name is empty", false, func(_, in map[string]any) { in["name"] = "" }, "info.name"},
		{"name is absolute", false, func(_, in map[string]any) { in["name"] = "/etc/passwd" }, "info.name"},
		{"name is not a string", false, func(_, in map[string]any) { in["name"] = 7 }, "info.name"},
		{"pieces not a multiple of 20", false, func(_, in map[string]any) { in["pieces"] = strings.Repeat("p", 81) }, "info.pieces"},
		{"too few pieces", false, func(_, in map[string]any) { in["pieces"] = strings.Repeat("p", 60) }, "info.pieces"},
		{"too many pieces", true, func(_, in map[string]any) { in["pieces"] = strings.Repeat("p", 100) }, "info.pieces"},
		{"pieces missing", false, func(_, in map[string]any) { delete(in, "pieces") }, "info.pieces"},
		{"zero length", false, func(_, in map[string]any) { in["length"] = 0; in["pieces"] = "" }, "info.length"},
		{"negative length", false, func(_, in map[string]any) { in["length"] = -1 }, "info.length"},
		{"negative file length", true, func(_, in map[string]any) { in["files"] = files(file(-5, "a"), file(50005, "b")) }, "info.files[0].length"},
		{"all files empty", true, func(_, in map[string]any) { in["files"] = files(file(0, "a")); in["pieces"] = "" }, "info.files"},
		{"files overflow int64", true, func(_, in map[string]any) {
			in["files"] = files(file(math.MaxInt64, "a"), file(1, "b"))
		}, "info.files[1].length"},
		{"piece length under 16 KiB", false, func(_, in map[string]any) { in["piece length"] = 8192 }, "info.piece length"},
		{"piece length not a power of two", false, func(_, in map[string]any) { in["piece length"] = 3 * 16384 }, "info.piece length"},
		{"piece length zero", false, func(_, in map[string]any) { in["piece length"] = 0 }, "info.piece length"},
		{"piece length negative", false, func(_, in map[string]any) { in["piece length"] = -32768 }, "info.piece length"},
		{"piece length huge", false, func(_, in map[string]any) { in["piece length"] = 1 << 40 }, "info.piece length"},
		{"length and files", false, func(_, in map[string]any) { in["files"] = files(file(1, "a")) }, "info.files"},
		{"neither length nor files", false, func(_, in map[string]any) { delete(in, "length") }, "info.length"},
		{"files empty", true, func(_, in map[string]any) { in["files"] = []any{} }, "info.files"},
		{"file is not a dictionary", true, func(_, in map[string]any) { in["files"] = []any{"a"} }, "info.files[0]"},
		{"file path empty", true, func(_, in map[string]any) { in["files"] = files(file(50000)) }, "info.files[0].path"},
		{"file path not strings", true, func(_, in map[string]any) {
			in["files"] = files(map[string]any{"length": 50000, "path": []any{1}})
		}, "info.files[0].path[0]"},
		{"file length missing", true, func(_, in map[string]any) {
			in["files"] = files(map[string]any{"path": []string{"a"}})
		}, "info.files[0].length"},
		{"duplicate file", true, func(_, in map[string]any) { in["files"] = files(file(25000, "a"), file(25000, "a")) }, "info.files[1].path"},
		{"file where a folder is", true, func(_, in map[string]any) { in["files"] = files(file(25000, "a"), file(25000, "a", "b")) }, "info.files[1].path"},
		{"private not 0 or 1", false, func(_, in map[string]any) { in["private"] = 2 }, "info.private"},
		{"info missing", false, func(top, _ map[string]any) { delete(top, "info") }, "info"},
		{"info not a dictionary", false, func(top, _ map[string]any) { top["info"] = "x" }, "info"},
		{"announce not a string", false, func(top, _ map[string]any) { top["announce"] = []any{} }, "announce"},
		{"announce-list tier not a list", false, func(top, _ map[string]any) { top["announce-list"] = []any{"http://a/"} }, "announce-list[0]"},
		{"announce-list URL not a string", false, func(top, _ map[string]any) { top["announce-list"] = []any{[]any{1}} }, "announce-list[0][0]"},
		{"url-list not a string or list", false, func(top, _ map[string]any) { top["url-list"] = 1 }, "url-list"},
		{"creation date not an integer", false, func(top, _ map[string]any) { top["creation date"] = "today" }, "creation date"},
	}
	for name, c := range pathTests {
		tests = append(tests, struct {
			name   string
			multi  bool
			mutate mutate
			field  string
		}{name, true, func(_, in map[string]any) { in["files"] = files(file(50000, "ok", c)) }, "info.files[0].path[1]"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top, info := singleFile()
			if tt.multi {
				top, info = multiFile()
			}
			tt.mutate(top, info)
			checkFieldError(t, benc(top), tt.field)
		})
	}
}

func TestParseRejectsMalformedBencode(t *testing.T) {
	_, info := singleFile()
	valid := "d4:info" + benc(info) + "e"
	tests := []struct {
		name, data, field string
	}{
		{"empty", "", "torrent"},
		{"not a dictionary", "l4:infoe", "torrent"},
		{"trailing bytes", valid + "\n", "torrent"},
		{"truncated", valid[:len(valid)-3], "torrent"},
		{"unsorted keys", "d4:infod4:name1:ae8:announce1:ue", "torrent"},
		{"duplicate keys", "d4:infod4:name1:ae4:infod4:name1:aee", "torrent"},
		{"leading zero", "d1:ai01ee", "torrent"},
		{"string longer than the input", "d4:info999999999:x", "torrent"},
		{"huge string length", "d4:info99999999999999999999:x", "torrent"},
		{"deep nesting", "d1:x" + strings.Repeat("l", 200) + strings.Repeat("e", 200) + "4:info" + benc(info) + "e", "torrent"},
		{"integer overflow", "d13:creation datei99999999999999999999e4:info" + benc(info) + "e", "creation date"},
		{"non-string key", "d4:infodli1ee1:xee", "torrent"},
		{"non-string key in info", "d4:infodl1:ae1:xee", "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkFieldError(t, tt.data, tt.field) })
	}
}

func checkFieldError(t *testing.T, data, field string) {
	t.Helper()
	tor, err := Parse([]byte(data))
	if err == nil {
		t.Fatalf("Parse accepted %.200q: %+v", data, tor)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FieldError", err)
	}
	if fe.Field != field {
		t.Fatalf("error names field %q, want %q: %v", fe.Field, field, err)
	}
	if !strings.Contains(err.Error(), field) {
		t.Fatalf("message %q does not name %q", err, field)
	}
}

func TestParseRejectsFilesOverMaxSize(t *testing.T) {
	if _, err := Parse(make([]byte, MaxSize+1)); err == nil {
		t.Fatal("Parse accepted a file over MaxSize")
	}
}

func TestParseKeepsPaddingFilesOutOfPathChecks(t *testing.T) {
	// libtorrent names every padding file of one size ".pad/<size>".
	top, info := multiFile()
	info["files"] = []any{
		map[string]any{"length": 10000, "path": []string{"a"}},
		map[string]any{"attr": "p", "length": 6384, "path": []string{".pad", "6384"}},
		map[string]any{"length": 10000, "path": []string{"b"}},
		map[string]any{"attr": "p", "length": 6384, "path": []string{".pad", "6384"}},
		map[string]any{"length": 10000, "path": []string{"c"}},
	}
	info["pieces"] = strings.Repeat("h", 60)
	tor, err := Parse([]byte(benc(top)))
	if err != nil {
		t.Fatal(err)
	}
	if !tor.Info.Files[1].IsPadding() || tor.Info.Files[2].Offset != 16384 {
		t.Fatalf("files = %+v", tor.Info.Files)
	}
}

package udpwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGoldenPackets(t *testing.T) {
	ih := [20]byte(bytes.Repeat([]byte{0xab}, 20))
	id := [20]byte([]byte("-BO0001-abcdefghijkl"))
	cases := []struct {
		name string
		got  []byte
		want string
	}{
		{"connect request", AppendConnectRequest(nil, 0x01020304), "0000041727101980 00000000 01020304"},
		{"connect response", AppendConnectResponse(nil, 7, 0x1122334455667788), "00000000 00000007 1122334455667788"},
		{"error", AppendError(nil, 9, "bad"), "00000003 00000009 626164"},
		{"announce request", AppendAnnounceRequest(nil, &AnnounceRequest{
			ConnectionID: 0x1122334455667788, TransactionID: 5, InfoHash: ih, PeerID: id,
			Downloaded: 1, Left: 2, Uploaded: 3, Event: EventStarted, Key: 0xdeadbeef, NumWant: -1, Port: 6881,
		}), "1122334455667788 00000001 00000005" + strings.Repeat("ab", 20) + hex.EncodeToString(id[:]) +
			"0000000000000001 0000000000000002 0000000000000003 00000002 00000000 deadbeef ffffffff 1ae1"},
		{"announce request with URL data", AppendAnnounceRequest(nil, &AnnounceRequest{URLData: []byte("/announce?k=1")})[AnnounceRequestSize:],
			"02 0d 2f616e6e6f756e63653f6b3d31 00"},
		{"announce response", AppendAnnounceResponse(nil, &AnnounceResponse{TransactionID: 5, Interval: 1800, Leechers: 2, Seeders: 3, Peers: []byte{127, 0, 0, 1, 0x1a, 0xe1}}),
			"00000001 00000005 00000708 00000002 00000003 7f000001 1ae1"},
		{"scrape request", AppendScrapeRequest(nil, 1, 2, [][20]byte{ih}), "0000000000000001 00000002 00000002" + strings.Repeat("ab", 20)},
		{"scrape response", AppendScrapeResponse(nil, 2, []ScrapeStats{{1, 2, 3}}), "00000002 00000002 00000001 00000002 00000003"},
	}
	for _, c := range cases {
		if want := unhex(t, c.want); !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got %x\nwant %x", c.name, c.got, want)
		}
	}
}

func TestAnnounceRoundTrip(t *testing.T) {
	in := AnnounceRequest{ConnectionID: 42, TransactionID: 7, Downloaded: 10, Left: 20, Uploaded: 30, Event: EventStopped, IP: [4]byte{1, 2, 3, 4}, Key: 9, NumWant: 50, Port: 51413, URLData: []byte(strings.Repeat("x", 300))}
	in.InfoHash[0], in.PeerID[19] = 1, 2
	var out AnnounceRequest
	if err := ParseAnnounceRequest(AppendAnnounceRequest(nil, &in), &out); err != nil {
		t.Fatal(err)
	}
	if string(out.URLData) != string(in.URLData) {
		t.Fatalf("URL data split over options came back as %q", out.URLData)
	}
	out.URLData, in.URLData = nil, nil
	if !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
}

func TestAnnounceOptions(t *testing.T) {
	base := AppendAnnounceRequest(nil, &AnnounceRequest{})
	cases := []struct {
		name    string
		opts    []byte
		wantURL string
		wantErr error
	}{
		{"none", nil, "", nil},
		{"NOPs then URL", []byte{1, 1, 2, 3, 'a', 'b', 'c', 0}, "abc", nil},
		{"unknown option skipped", []byte{9, 2, 0xff, 0xff, 2, 1, 'z'}, "z", nil},
		{"end stops parsing", []byte{0, 2, 1, 'z'}, "", nil},
		{"truncated length", []byte{2}, "", ErrOptionShort},
		{"truncated data", []byte{2, 5, 'a'}, "", ErrOptionShort},
	}
	for _, c := range cases {
		var r AnnounceRequest
		err := ParseAnnounceRequest(append(append([]byte(nil), base...), c.opts...), &r)
		if !errors.Is(err, c.wantErr) || (err == nil && string(r.URLData) != c.wantURL) {
			t.Errorf("%s: url %q err %v; want %q, %v", c.name, r.URLData, err, c.wantURL, c.wantErr)
		}
	}
}

func TestMalformedRequests(t *testing.T) {
	if _, err := ParseHeader(make([]byte, 15)); !errors.Is(err, ErrShort) {
		t.Errorf("15-byte header: %v", err)
	}
	var r AnnounceRequest
	if err := ParseAnnounceRequest(make([]byte, 97), &r); !errors.Is(err, ErrShort) {
		t.Errorf("97-byte announce: %v", err)
	}
	connectWrongID := AppendConnectRequest(nil, 1)
	connectWrongID[0] = 9
	h, _ := ParseHeader(connectWrongID)
	if err := CheckConnectRequest(connectWrongID, h); !errors.Is(err, ErrProtocolID) {
		t.Errorf("wrong protocol ID: %v", err)
	}
	scrape := AppendScrapeRequest(nil, 1, 2, [][20]byte{{}})
	if _, _, err := ParseScrapeRequest(scrape[:len(scrape)-1], nil); !errors.Is(err, ErrScrapeSize) {
		t.Errorf("scrape with 19-byte hash: %v", err)
	}
	if _, _, err := ParseScrapeRequest(scrape[:16], nil); !errors.Is(err, ErrScrapeSize) {
		t.Errorf("scrape without hashes: %v", err)
	}
	many := AppendScrapeRequest(nil, 1, 2, make([][20]byte, MaxScrapeHashes+1))
	if _, _, err := ParseScrapeRequest(many, nil); !errors.Is(err, ErrTooMany) {
		t.Errorf("scrape of %d hashes: %v", MaxScrapeHashes+1, err)
	}
}

func TestResponsesParse(t *testing.T) {
	tid, cid, err := ParseConnectResponse(AppendConnectResponse(nil, 3, 4))
	if err != nil || tid != 3 || cid != 4 {
		t.Fatalf("connect response: %d %d %v", tid, cid, err)
	}
	var ar AnnounceResponse
	peers := bytes.Repeat([]byte{1}, 18*2)
	if err := ParseAnnounceResponse(AppendAnnounceResponse(nil, &AnnounceResponse{TransactionID: 1, Peers: peers}), 18, &ar); err != nil || len(ar.Peers) != 36 {
		t.Fatalf("announce response: %+v %v", ar, err)
	}
	tid, stats, err := ParseScrapeResponse(AppendScrapeResponse(nil, 8, []ScrapeStats{{1, 2, 3}, {4, 5, 6}}), nil)
	if err != nil || tid != 8 || len(stats) != 2 || stats[1] != (ScrapeStats{4, 5, 6}) {
		t.Fatalf("scrape response: %d %v %v", tid, stats, err)
	}
	tid, msg, err := ParseError(AppendError(nil, 5, "nope"))
	if err != nil || tid != 5 || msg != "nope" {
		t.Fatalf("error: %d %q %v", tid, msg, err)
	}
	if a, _, _ := ResponseAction(AppendError(nil, 5, "x")); a != ActionError {
		t.Fatalf("action %d", a)
	}
}

// FuzzParseRequest feeds arbitrary packets to every request decoder: none
// may panic, and an announce that parses re-encodes to an equal request.
func FuzzParseRequest(f *testing.F) {
	f.Add(AppendConnectRequest(nil, 1))
	f.Add(AppendAnnounceRequest(nil, &AnnounceRequest{ConnectionID: 5, Port: 1, URLData: []byte("/announce")}))
	f.Add(AppendScrapeRequest(nil, 5, 6, [][20]byte{{1}, {2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHeader(b)
		if err != nil {
			return
		}
		switch h.Action {
		case ActionConnect:
			_ = CheckConnectRequest(b, h)
		case ActionAnnounce:
			var r AnnounceRequest
			if ParseAnnounceRequest(b, &r) != nil {
				return
			}
			var again AnnounceRequest
			if err := ParseAnnounceRequest(AppendAnnounceRequest(nil, &r), &again); err != nil {
				t.Fatalf("re-encoded announce does not parse: %v", err)
			}
			if string(again.URLData) != string(r.URLData) {
				t.Fatalf("URL data %q became %q", r.URLData, again.URLData)
			}
		case ActionScrape:
			_, hashes, err := ParseScrapeRequest(b, nil)
			if err == nil && (len(hashes) == 0 || len(hashes) > MaxScrapeHashes) {
				t.Fatalf("accepted %d hashes", len(hashes))
			}
		}
	})
}

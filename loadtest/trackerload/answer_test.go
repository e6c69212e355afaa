package trackerload

import (
	"errors"
	"testing"
)

func TestParseAnnounceAnswer(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		interval int
		peers    int
		reason   string
	}{
		{"compact IPv4", "d8:completei1e10:incompletei2e8:intervali1800e12:min intervali900e5:peers12:abcdefghijkle", 1800, 2, ""},
		{"IPv6 beside empty peers", "d8:intervali60e5:peers0:6:peers618:0123456789abcdefghe", 60, 1, ""},
		{"dictionary peers", "d8:intervali5e5:peersld2:ip9:127.0.0.14:porti1eed2:ip3:::14:porti2eeee", 5, 2, ""},
		{"failure", "d14:failure reason20:unregistered torrente", 0, 0, "unregistered torrent"},
		{"unknown keys skipped", "d3:fooli1ei2ed1:xi3eee8:intervali7e5:peers0:e", 7, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a answer
			if err := parseAnnounceAnswer([]byte(tt.body), &a); err != nil {
				t.Fatal(err)
			}
			if a.interval != tt.interval || a.peers != tt.peers || string(a.reason) != tt.reason || a.failure != (tt.reason != "") {
				t.Errorf("got interval %d, peers %d, failure %v %q", a.interval, a.peers, a.failure, a.reason)
			}
		})
	}
}

func TestParseAnswerRejectsMalformedBodies(t *testing.T) {
	for _, body := range []string{
		"", "le", "d", "d8:interval", "d8:intervali1e", "d8:intervalie", "d8:intervali1x2ee",
		"d5:peers99:abce", "d5:peersi1ee", "d8:intervali1eeTRAILING", "<html>Not Found</html>",
		"d8:intervali01ee", "d8:intervali-0ee", "d8:intervali99999999999999999999ee", "d5:peers03:abce", "d6:peers6i1ee",
		"d1:a" + string(make([]byte, 40)) + "e",
	} {
		var a answer
		if err := parseAnnounceAnswer([]byte(body), &a); !errors.Is(err, errMalformed) {
			t.Errorf("announce answer %q: error %v, want errMalformed", body, err)
		}
	}
	var a answer
	if err := parseScrapeAnswer([]byte("d8:intervali1ee"), &a); !errors.Is(err, errMalformed) {
		t.Errorf("scrape answer without files: error %v", err)
	}
	if err := parseScrapeAnswer([]byte("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1eeee"), &a); err != nil {
		t.Errorf("good scrape answer: %v", err)
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	body := "d1:a"
	for range 100 {
		body += "l"
	}
	for range 100 {
		body += "e"
	}
	body += "e"
	var a answer
	if err := parseAnnounceAnswer([]byte(body), &a); !errors.Is(err, errMalformed) {
		t.Errorf("error %v, want errMalformed", err)
	}
}

func FuzzParseAnnounceAnswer(f *testing.F) {
	f.Add([]byte("d8:intervali1800e5:peers6:abcdefe"))
	f.Add([]byte("d14:failure reason3:note"))
	f.Add([]byte("d5:peersld2:ip1:x4:porti1eeee"))
	f.Add([]byte("d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1eeee"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var a answer
		if err := parseAnnounceAnswer(b, &a); err == nil && (a.peers < 0 || a.interval < 0) {
			t.Errorf("negative counts from %q: %+v", b, a)
		}
		parseScrapeAnswer(b, &a)
	})
}

func TestParseAnswersWithoutAllocating(t *testing.T) {
	a := answer{reason: make([]byte, 0, 64)}
	for _, tc := range []struct {
		name, body string
		parse      func([]byte, *answer) error
	}{
		{"compact", "d8:completei10e10:downloadedi3e10:incompletei20e8:intervali1800e12:min intervali900e5:peers12:abcdefghijkle", parseAnnounceAnswer},
		{"IPv6", "d8:intervali60e5:peers0:6:peers618:0123456789abcdefghe", parseAnnounceAnswer},
		{"dictionary peers", "d8:intervali5e5:peersld2:ip9:127.0.0.14:porti1eed2:ip3:::14:porti2eeee", parseAnnounceAnswer},
		{"failure", "d14:failure reason20:unregistered torrente", parseAnnounceAnswer},
		{"scrape", "d5:filesd20:aaaaaaaaaaaaaaaaaaaad8:completei1e10:downloadedi0e10:incompletei2eeee", parseScrapeAnswer},
	} {
		body := []byte(tc.body)
		if n := testing.AllocsPerRun(100, func() {
			a.reset()
			if err := tc.parse(body, &a); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("%s: %v allocations", tc.name, n)
		}
	}
}

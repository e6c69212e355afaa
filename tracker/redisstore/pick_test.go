package redisstore

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/bitorigin/bitorigin/tracker"
)

// joined builds n IPv4 members (6-byte address, 20-byte peer ID) whose
// bytes start with tag and the index, as the script joins them.
func joined(tag byte, n int) string {
	var b strings.Builder
	for i := range n {
		m := make([]byte, 26)
		m[0], m[1] = tag, byte(i)
		b.Write(m)
	}
	return b.String()
}

func TestPickTakesWhatTheScriptWould(t *testing.T) {
	seeders, leechers := joined('s', 100), joined('l', 100)
	self := leechers[26*7 : 26*8]
	for _, c := range []struct {
		name                  string
		seeders, leechers     string
		seeder                bool
		numWant, cs, cl       int
		wantSeeds, wantLeechs int
	}{
		{"a seeder gets leechers only", seeders, leechers, true, 50, 100, 100, 0, 50},
		{"a leecher gets both in proportion", seeders, leechers, false, 50, 100, 101, 25, 25},
		{"in proportion to the lists, not the sample", seeders, leechers, false, 40, 300, 101, 30, 10},
		{"all of a small swarm, itself aside", joined('s', 3), joined('l', 5), false, 50, 3, 5, 3, 4},
		{"more of one kind when the other runs short", joined('s', 10), leechers, false, 50, 200, 101, 10, 40},
		{"never more than a list now holds", seeders, leechers, false, 50, 2, 4, 2, 3},
		{"a seeder with few leechers", seeders, joined('l', 3), true, 50, 100, 3, 0, 3},
		{"numwant zero", seeders, leechers, false, 0, 100, 100, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out tracker.SwarmAnswer
			slf := self
			if !strings.Contains(c.leechers, self) {
				slf = "not a member of either list....."[:26]
			}
			pick(&out, c.seeders, c.leechers, 6, slf, c.seeder, c.numWant, c.cs, c.cl, true, rand.IntN)
			if len(out.Peers)%6 != 0 || len(out.PeerIDs) != len(out.Peers)/6*20 {
				t.Fatalf("%d bytes of peers and %d of peer IDs", len(out.Peers), len(out.PeerIDs))
			}
			seen := map[string]bool{}
			var s, l int
			for i := 0; i < len(out.Peers); i += 6 {
				e := out.Peers[i : i+6]
				if seen[string(e)] {
					t.Fatalf("peer %x twice", e)
				}
				seen[string(e)] = true
				if string(e) == self[:6] {
					t.Fatal("picked the announcer")
				}
				switch e[0] {
				case 's':
					s++
				case 'l':
					l++
				}
			}
			if s != c.wantSeeds || l != c.wantLeechs {
				t.Fatalf("picked %d seeders and %d leechers, want %d and %d", s, l, c.wantSeeds, c.wantLeechs)
			}
		})
	}
}

func TestPickIsRandom(t *testing.T) {
	seeders := joined('s', 200)
	hits := map[string]bool{}
	for range 20 {
		var out tracker.SwarmAnswer
		pick(&out, seeders, "", 6, "", false, 10, 200, 1, false, rand.IntN)
		for i := 0; i < len(out.Peers); i += 6 {
			hits[string(out.Peers[i:i+6])] = true
		}
	}
	// 200 picks of 200: a fair pick reaches most; one that starts in
	// one place reaches 10.
	if len(hits) < 100 {
		t.Fatalf("20 picks of 10 reached %d of 200 members", len(hits))
	}
}

package trackerload

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestValidateNamesWhatIsWrong(t *testing.T) {
	good := Config{Target: "http://127.0.0.1:1/announce", Rate: 10}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"negative rate", func(c *Config) { c.Rate = -5 }, "rate -5"},
		{"unknown scheme", func(c *Config) { c.Target = "ftp://x/announce" }, `unknown scheme "ftp"`},
		{"no scheme", func(c *Config) { c.Target = "127.0.0.1:6969" }, "scheme"},
		{"no target", func(c *Config) { c.Target = "" }, "no target"},
		{"udp without port", func(c *Config) { c.Target = "udp://tracker" }, "udp://HOST:PORT"},
		{"scrape needs announce path", func(c *Config) { c.Target = "http://h/track" }, "scrape"},
		{"two paces", func(c *Config) { c.Workers = 3 }, "pick one pace"},
		{"no pace", func(c *Config) { c.Rate = 0 }, "pick one pace"},
		{"negative workers", func(c *Config) { c.Rate, c.Workers = 0, -1 }, "workers -1"},
		{"peers", func(c *Config) { c.Peers = -1 }, "peers -1"},
		{"torrents", func(c *Config) { c.Torrents = -1 }, "torrents -1"},
		{"negative duration", func(c *Config) { c.Duration = -1 }, "negative"},
		{"seeder share", func(c *Config) { c.SeederShare = 2 }, "seeder share"},
		{"popularity", func(c *Config) { c.Popularity = Popularity{Kind: "pareto", Param: 1} }, "pareto"},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := good
			tt.edit(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	noScrape := good
	noScrape.Target = "http://h/track"
	noScrape.Mix = Mix{ActionNone: 1}
	if err := noScrape.Validate(); err != nil {
		t.Errorf("a path without announce is fine without scrapes: %v", err)
	}
}

func TestMixAndPopularityFlags(t *testing.T) {
	var m Mix
	if err := m.Set("none=1, scrape=3"); err != nil {
		t.Fatal(err)
	}
	if m[ActionNone] != 1 || m[ActionScrape] != 3 || m[ActionStarted] != 0 {
		t.Errorf("mix %v", m)
	}
	var back Mix
	if err := back.Set(m.String()); err != nil || back != m {
		t.Errorf("mix %q did not survive String and Set: %v, %v", m.String(), back, err)
	}
	for _, bad := range []string{"", "none", "none=-1", "jump=1", "none=0", "none=x"} {
		if err := m.Set(bad); err == nil {
			t.Errorf("mix %q accepted", bad)
		}
	}
	var p Popularity
	for _, good := range []string{"zipf:1.2", "gamma:0.5", "uniform"} {
		if err := p.Set(good); err != nil || p.String() != good {
			t.Errorf("popularity %q: %v, reads back as %q", good, err, p.String())
		}
	}
	for _, bad := range []string{"zipf", "zipf:0", "zipf:-1", "gamma:x", "uniform:2", "pareto:1"} {
		if err := p.Set(bad); err == nil {
			t.Errorf("popularity %q accepted", bad)
		}
	}
}

func TestPopularityIsSkewed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range []Popularity{{Kind: "zipf", Param: 1}, {Kind: "gamma", Param: 0.3}} {
		s, err := newSampler(p, 1000, r)
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 1000)
		for range 100000 {
			counts[s.draw(r)]++
		}
		top := 0
		for _, c := range counts {
			top = max(top, c)
		}
		// Uniform would give each torrent about 100.
		if top < 1000 {
			t.Errorf("%s: the most popular torrent got %d of 100000 draws", p.String(), top)
		}
	}
}

func TestInfoHashesAreStableAndDistinct(t *testing.T) {
	a, b := InfoHashes(100, 1), InfoHashes(100, 1)
	seen := map[[20]byte]bool{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("info hash %d differs between calls", i)
		}
		seen[a[i]] = true
	}
	if len(seen) != 100 || InfoHashes(1, 2)[0] == a[0] {
		t.Errorf("%d distinct of 100, or the seed changes nothing", len(seen))
	}
}

func TestScrapePath(t *testing.T) {
	for in, want := range map[string]string{
		"/announce": "/scrape", "/x/announce.php": "/x/scrape.php", "/announce/": "", "/a": "",
	} {
		got, ok := scrapePath(in)
		if got != want || ok != (want != "") {
			t.Errorf("scrapePath(%q) = %q, %v", in, got, ok)
		}
	}
}

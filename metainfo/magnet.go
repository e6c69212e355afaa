package metainfo

import (
	"fmt"
	"net/url"
	"strings"
)

// Magnet is a BEP 9 magnet link for a v1 torrent.
type Magnet struct {
	InfoHash InfoHash
	// Name is the display name (dn), a hint until the metadata arrives.
	Name string
	// Trackers are the tracker URLs (tr), in order.
	Trackers []string
	// WebSeeds are BEP 19 web seed URLs (ws).
	WebSeeds []string
}

// Magnet returns the torrent's magnet link: every tracker of every tier, in
// order, and every web seed.
func (t *Torrent) Magnet() Magnet {
	m := Magnet{InfoHash: t.InfoHash(), Name: t.Info.Name, WebSeeds: t.WebSeeds}
	seen := make(map[string]bool)
	for _, tier := range t.Trackers() {
		for _, u := range tier {
			if !seen[u] {
				seen[u] = true
				m.Trackers = append(m.Trackers, u)
			}
		}
	}
	return m
}

// String returns the link: magnet:?xt=urn:btih:<hex>&dn=...&tr=...&ws=...
func (m Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?xt=urn:btih:")
	b.WriteString(m.InfoHash.String())
	if m.Name != "" {
		b.WriteString("&dn=")
		b.WriteString(escape(m.Name))
	}
	for _, u := range m.Trackers {
		b.WriteString("&tr=")
		b.WriteString(escape(u))
	}
	for _, u := range m.WebSeeds {
		b.WriteString("&ws=")
		b.WriteString(escape(u))
	}
	return b.String()
}

// escape writes spaces as %20: clients disagree on whether '+' means a space.
func escape(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }

// ParseMagnet reads a magnet link with a v1 info hash (urn:btih, hex or
// base32). Parameters it does not use are ignored; empty tr and ws values
// are dropped.
func ParseMagnet(s string) (Magnet, error) {
	var m Magnet
	const scheme = "magnet:?"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return m, fmt.Errorf("magnet link %.40q: does not start with %q", s, scheme)
	}
	var found bool
	for _, param := range strings.Split(s[len(scheme):], "&") {
		if param == "" {
			continue
		}
		key, raw, _ := strings.Cut(param, "=")
		val, err := url.QueryUnescape(raw)
		if err != nil {
			return Magnet{}, fmt.Errorf("magnet link: parameter %s: %w", key, err)
		}
		switch {
		case key == "xt":
			const urn = "urn:btih:"
			if len(val) < len(urn) || !strings.EqualFold(val[:len(urn)], urn) {
				continue // another hash kind, such as BEP 52's urn:btmh
			}
			h, err := ParseInfoHash(val[len(urn):])
			if err != nil {
				return Magnet{}, fmt.Errorf("magnet link: xt: %w", err)
			}
			if found && h != m.InfoHash {
				return Magnet{}, fmt.Errorf("magnet link: two different info hashes %s and %s", m.InfoHash, h)
			}
			m.InfoHash, found = h, true
		case key == "dn":
			if m.Name == "" {
				m.Name = val
			}
		case key == "tr" || strings.HasPrefix(key, "tr."):
			if val != "" {
				m.Trackers = append(m.Trackers, val)
			}
		case key == "ws":
			if val != "" {
				m.WebSeeds = append(m.WebSeeds, val)
			}
		}
	}
	if !found {
		return Magnet{}, fmt.Errorf("magnet link: no xt=urn:btih: (v1 info hash)")
	}
	return m, nil
}

package metainfo

import (
	"fmt"
	"net/url"
	"strings"
)

// Magnet is a BEP 9 magnet link: a v1 torrent's has a v1 info hash, a v2
// torrent's a v2 one (BEP 52), a hybrid torrent's both.
type Magnet struct {
	// InfoHash is the v1 info hash (xt=urn:btih); zero when the link has
	// none.
	InfoHash InfoHash
	// InfoHashV2 is the v2 info hash (xt=urn:btmh, a SHA-256 multihash);
	// zero when the link has none.
	InfoHashV2 InfoHashV2
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
	m := Magnet{Name: t.Info.Name, WebSeeds: t.WebSeeds}
	m.InfoHash, _ = t.InfoHashV1()
	m.InfoHashV2, _ = t.InfoHashV2()
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

// btmhPrefix starts a v2 info hash in a magnet link: the multihash code of
// SHA-256 (0x12) and its length (0x20), in hex (BEP 52).
const btmhPrefix = "1220"

// String returns the link:
// magnet:?xt=urn:btih:<hex>&xt=urn:btmh:1220<hex>&dn=...&tr=...&ws=...,
// with each xt only when the link has that hash (btih when it has neither).
func (m Magnet) String() string {
	var b strings.Builder
	b.WriteString("magnet:?")
	if m.InfoHash != (InfoHash{}) || m.InfoHashV2 == (InfoHashV2{}) {
		b.WriteString("xt=urn:btih:")
		b.WriteString(m.InfoHash.String())
		if m.InfoHashV2 != (InfoHashV2{}) {
			b.WriteString("&")
		}
	}
	if m.InfoHashV2 != (InfoHashV2{}) {
		b.WriteString("xt=urn:btmh:" + btmhPrefix)
		b.WriteString(m.InfoHashV2.String())
	}
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
// base32), a v2 info hash (urn:btmh, a SHA-256 multihash in hex), or both.
// Parameters it does not use, and hashes of other kinds, are ignored; empty
// tr and ws values are dropped.
func ParseMagnet(s string) (Magnet, error) {
	var m Magnet
	const scheme = "magnet:?"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return m, fmt.Errorf("magnet link %.40q: does not start with %q", s, scheme)
	}
	var found, foundV2 bool
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
		case key == "xt" && hasPrefixFold(val, "urn:btmh:"+btmhPrefix):
			h, err := ParseInfoHashV2(val[len("urn:btmh:"+btmhPrefix):])
			if err != nil {
				return Magnet{}, fmt.Errorf("magnet link: xt: %w", err)
			}
			if foundV2 && h != m.InfoHashV2 {
				return Magnet{}, fmt.Errorf("magnet link: two different v2 info hashes %s and %s", m.InfoHashV2, h)
			}
			m.InfoHashV2, foundV2 = h, true
		case key == "xt":
			const urn = "urn:btih:"
			if !hasPrefixFold(val, urn) {
				continue // another hash kind
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
	if !found && !foundV2 {
		return Magnet{}, fmt.Errorf("magnet link: no xt=urn:btih: (v1 info hash) and no xt=urn:btmh:%s (v2 info hash)", btmhPrefix)
	}
	return m, nil
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

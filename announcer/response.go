package announcer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"

	bencode "github.com/jackpal/bencode-go"
)

// ParseResponse decodes an HTTP tracker's bencoded answer. A failure
// reason comes back as reason, with a nil Response; peers may be compact
// (BEP 23, BEP 7 peers6) or a list of dictionaries (BEP 3). Peers with
// port 0 or an invalid address are dropped.
func ParseResponse(body []byte) (resp *Response, reason string, err error) {
	v, err := bencode.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, "", fmt.Errorf("bad response %.60q: %w", body, err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, "", fmt.Errorf("response is not a dictionary: %.60q", body)
	}
	if s, ok := d["failure reason"].(string); ok {
		return nil, s, nil
	}
	r := &Response{}
	r.Warning, _ = d["warning message"].(string)
	if n, ok := d["interval"].(int64); ok && n > 0 {
		r.Interval = time.Duration(min(n, 1<<31)) * time.Second
	}
	if n, ok := d["min interval"].(int64); ok && n > 0 {
		r.MinInterval = time.Duration(min(n, 1<<31)) * time.Second
	}
	if n, ok := d["complete"].(int64); ok {
		r.Seeders = int(n)
	}
	if n, ok := d["incomplete"].(int64); ok {
		r.Leechers = int(n)
	}
	switch p := d["peers"].(type) {
	case string:
		r.Peers = appendCompact(r.Peers, []byte(p), 4)
	case []any:
		for _, e := range p {
			pd, ok := e.(map[string]any)
			if !ok {
				continue
			}
			ip, _ := pd["ip"].(string)
			port, _ := pd["port"].(int64)
			a, err := netip.ParseAddr(ip)
			if err != nil || port <= 0 || port > 65535 {
				continue
			}
			r.Peers = append(r.Peers, netip.AddrPortFrom(a.Unmap(), uint16(port)))
		}
	}
	if p, ok := d["peers6"].(string); ok {
		r.Peers = appendCompact(r.Peers, []byte(p), 16)
	}
	return r, "", nil
}

// appendCompact appends peers in compact form: each an address of size
// bytes and a big-endian port. A trailing partial entry is ignored.
func appendCompact(out []netip.AddrPort, b []byte, size int) []netip.AddrPort {
	for ; len(b) >= size+2; b = b[size+2:] {
		a, _ := netip.AddrFromSlice(b[:size])
		port := binary.BigEndian.Uint16(b[size:])
		if port == 0 || !a.IsValid() || a.IsUnspecified() {
			continue
		}
		out = append(out, netip.AddrPortFrom(a.Unmap(), port))
	}
	return out
}

package httpfront

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/valyala/fasthttp"
)

// ParsePrefixes parses a comma-separated list of CIDRs or bare addresses
// (a bare address is a /32 or /128).
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

type proxies []netip.Prefix

func (ps proxies) trusted(a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// remoteAddr is the TCP peer's address.
func remoteAddr(ctx *fasthttp.RequestCtx) netip.Addr {
	if ta, ok := ctx.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// clientIP decides which address the announcer has. The TCP source is the
// answer unless it is a trusted proxy: then the right-most address of
// X-Forwarded-For that is not itself a trusted proxy (or X-Real-IP) is the
// client, since every address left of it could have been written by the
// client. It also reports whether the request came through a trusted proxy.
func (ps proxies) clientIP(ctx *fasthttp.RequestCtx) (netip.Addr, bool) {
	remote := remoteAddr(ctx)
	if len(ps) == 0 || !ps.trusted(remote) {
		return remote, false
	}
	if xff := ctx.Request.Header.Peek("X-Forwarded-For"); len(xff) > 0 {
		for len(xff) > 0 {
			var hop []byte
			if i := bytes.LastIndexByte(xff, ','); i >= 0 {
				hop, xff = xff[i+1:], xff[:i]
			} else {
				hop, xff = xff, nil
			}
			a, ok := parseHop(hop)
			if !ok {
				// Garbage in the chain: trust nothing further left.
				return remote, true
			}
			if !ps.trusted(a) {
				return a, true
			}
			remote = a
		}
		return remote, true
	}
	if xri := ctx.Request.Header.Peek("X-Real-IP"); len(xri) > 0 {
		if a, ok := parseHop(xri); ok {
			return a, true
		}
	}
	return remote, true
}

func parseHop(b []byte) (netip.Addr, bool) {
	b = bytes.TrimSpace(b)
	var buf [64]byte
	if len(b) == 0 || len(b) > len(buf) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(string(append(buf[:0], b...)))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

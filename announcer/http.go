package announcer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/internal/version"
)

// maxResponse bounds a tracker's response body: a thousand IPv6 peers fit
// many times over.
const maxResponse = 1 << 20

// HTTPClient announces to HTTP and HTTPS trackers (BEP 3, compact peers
// per BEP 23, IPv6 peers per BEP 7).
type HTTPClient struct {
	// HTTP is the client used; its Timeout bounds each announce.
	HTTP *http.Client
	// UserAgent is sent with each announce.
	UserAgent string

	// byFamily are clients like HTTP whose connections are only of one
	// family, made on first use: a connection pool shared by the families
	// would send an IPv4 announce over an IPv6 connection.
	once     sync.Once
	byFamily [3]*http.Client
}

// client returns the HTTP client for announces over family f.
func (c *HTTPClient) client(f Family) *http.Client {
	if f == FamilyAny {
		return c.HTTP
	}
	c.once.Do(func() {
		base, ok := c.HTTP.Transport.(*http.Transport)
		if !ok || base == nil {
			base = http.DefaultTransport.(*http.Transport)
		}
		for _, fam := range []Family{FamilyIPv4, FamilyIPv6} {
			t := base.Clone()
			t.DialContext = familyDialer(fam)
			c.byFamily[fam] = &http.Client{Timeout: c.HTTP.Timeout, Transport: t}
		}
	})
	return c.byFamily[f]
}

// familyDialer dials only addresses of family f; a host without one, or no
// route to it, is ErrNoRoute.
func familyDialer(f Family) func(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := resolve(ctx, host, f)
		if err != nil {
			return nil, err
		}
		var last error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, f.network("tcp"), net.JoinHostPort(ip.String(), port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		if unreachable(last) {
			return nil, fmt.Errorf("%w: %w", ErrNoRoute, last)
		}
		return nil, last
	}
}

// resolve returns host's addresses of family f (all for FamilyAny); none
// of the family is ErrNoRoute.
func resolve(ctx context.Context, host string, f Family) ([]netip.Addr, error) {
	all, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var out []netip.Addr
	for _, a := range all {
		if f.has(a) {
			out = append(out, a.Unmap())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s has no %s address: %w", host, f, ErrNoRoute)
	}
	return out, nil
}

// NewHTTPClient returns an HTTPClient whose announces time out after
// timeout (30 s when 0).
func NewHTTPClient(timeout time.Duration) *HTTPClient {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &HTTPClient{
		HTTP:      &http.Client{Timeout: timeout},
		UserAgent: version.Name + "/" + version.Version,
	}
}

// Announce sends req to the tracker at trackerURL and decodes its answer.
// A failure reason is a *FailureError.
func (c *HTTPClient) Announce(ctx context.Context, trackerURL string, req *Request) (*Response, error) {
	u := AnnounceURL(trackerURL, req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	hreq.Header.Set("User-Agent", c.UserAgent)
	resp, err := c.client(req.Family).Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tracker %s: reading response: %w", trackerURL, err)
	}
	if len(body) > maxResponse {
		return nil, fmt.Errorf("tracker %s: response larger than %d bytes", trackerURL, maxResponse)
	}
	r, reason, err := ParseResponse(body)
	if err != nil {
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("tracker %s: HTTP %s", trackerURL, resp.Status)
		}
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	if reason != "" {
		return nil, &FailureError{URL: trackerURL, Reason: reason}
	}
	return r, nil
}

// AnnounceURL returns the GET URL of an announce: the tracker's URL with
// the BEP 3 parameters added to any query it already has.
func AnnounceURL(trackerURL string, req *Request) string {
	var b strings.Builder
	b.WriteString(trackerURL)
	if strings.Contains(trackerURL, "?") {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	b.WriteString("info_hash=")
	b.WriteString(escapeBytes(req.InfoHash[:]))
	b.WriteString("&peer_id=")
	b.WriteString(escapeBytes(req.PeerID[:]))
	fmt.Fprintf(&b, "&port=%d&uploaded=%d&downloaded=%d&left=%d&compact=1&no_peer_id=1&numwant=%d",
		req.Port, req.Uploaded, req.Downloaded, req.Left, req.NumWant)
	if req.Key != 0 {
		b.WriteString("&key=")
		b.WriteString(strconv.FormatUint(uint64(req.Key), 16))
	}
	if e := req.Event.String(); e != "" {
		b.WriteString("&event=")
		b.WriteString(e)
	}
	if req.IP.IsValid() {
		b.WriteString("&ip=")
		b.WriteString(url.QueryEscape(req.IP.String()))
	}
	return b.String()
}

// escapeBytes percent-encodes every byte but the unreserved ones, as
// trackers expect for info_hash and peer_id.
func escapeBytes(p []byte) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for _, c := range p {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

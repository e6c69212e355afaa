package announcer

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
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
	resp, err := c.HTTP.Do(hreq)
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

package trackerload

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// query is one request: an announce of peer p in torrent t, or a scrape of
// t. left, up and down are the peer's progress when it was sent.
type query struct {
	action         Action
	t              *torrent
	p              *peer
	left, up, down int64
}

// answer is what came back for one query.
type answer struct {
	// failure is set when the tracker answered with a failure reason
	// (HTTP) or an error packet (UDP): a response, not an error.
	failure bool
	reason  []byte // valid until the session's next do
	// interval is the announce interval the tracker asked for, in
	// seconds; peers is how many peers it returned.
	interval int
	peers    int
	// connected is set when a UDP session had to get a connection ID
	// first (BEP 15), which the latency then includes.
	connected bool
}

func (a *answer) reset() { *a = answer{reason: a.reason[:0]} }

// client is a tracker protocol: HTTP or UDP. Each worker opens its own
// session, so that sessions need no locks.
type client interface {
	session(worker int) (session, error)
	close()
}

// session sends queries one at a time.
type session interface {
	// do sends q and fills a, which the caller has reset. Every error is
	// a failed exchange (connection, time-out, malformed answer); a
	// failure reason from the tracker is a response.
	do(q *query, a *answer) error
	close()
}

// newClient returns the client for cfg.Target, which Validate checked.
func newClient(cfg *Config) (client, error) {
	u, err := parseTarget(cfg.Target, cfg.scrapes())
	if err != nil {
		return nil, err
	}
	if u.Scheme == "udp" {
		return newUDPClient(u, cfg)
	}
	return newHTTPClient(u, cfg)
}

// parseTarget checks a tracker URL: http or https with an announce path,
// or udp://host:port. needScrape asks for an http path whose last segment
// starts with "announce", from which the scrape URL is derived (BEP 48
// convention).
func parseTarget(s string, needScrape bool) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		return nil, fmt.Errorf("target %q: no scheme: want http://HOST:PORT/announce or udp://HOST:PORT", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("target %q: no host", s)
		}
		if needScrape {
			if _, ok := scrapePath(u.Path); !ok {
				return nil, fmt.Errorf("target %q: scrapes need a path whose last part starts with \"announce\"; give --mix without scrape", s)
			}
		}
	case "udp":
		if u.Port() == "" || u.Hostname() == "" {
			return nil, fmt.Errorf("target %q: want udp://HOST:PORT", s)
		}
	case "":
		return nil, fmt.Errorf("target %q: no scheme: want http://HOST:PORT/announce or udp://HOST:PORT", s)
	default:
		return nil, fmt.Errorf("target %q: unknown scheme %q: want http, https or udp", s, u.Scheme)
	}
	return u, nil
}

// scrapePath turns .../announce[suffix] into .../scrape[suffix].
func scrapePath(p string) (string, bool) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 || !strings.HasPrefix(p[i+1:], "announce") {
		return "", false
	}
	return p[:i+1] + "scrape" + p[i+1+len("announce"):], true
}

// errMalformed is an answer that could not be decoded.
var errMalformed = errors.New("malformed answer")

package trackerload

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bitorigin/bitorigin/internal/version"
)

// httpClient announces and scrapes over HTTP with fasthttp's client: a
// pool of kept-alive connections, or a new connection per request.
type httpClient struct {
	hc        *fasthttp.HostClient
	announce  []byte // the announce URL up to and including '?' or '&'
	scrape    []byte // the same for the scrape URL
	connClose bool
	numWant   int
	timeout   time.Duration
}

func newHTTPClient(u *url.URL, cfg *Config) (*httpClient, error) {
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	c := &httpClient{
		hc: &fasthttp.HostClient{
			Addr:     addr,
			IsTLS:    u.Scheme == "https",
			Name:     version.Name + "-loadtest/" + version.Version,
			MaxConns: cfg.slots(),
			// A kept-alive connection the tracker closed without saying
			// so (opentracker closes after every answer) is retried on a
			// new one; nothing else is, so a failing tracker shows.
			MaxIdemponentCallAttempts: 4,
			RetryIfErr: func(_ *fasthttp.Request, _ int, err error) (bool, bool) {
				return false, classify(err) == errClosed
			},
			ReadTimeout:            cfg.Timeout,
			WriteTimeout:           cfg.Timeout,
			MaxIdleConnDuration:    10 * time.Second,
			MaxResponseBodySize:    1 << 20,
			DisablePathNormalizing: true,
		},
		connClose: cfg.ConnClose,
		numWant:   cfg.NumWant,
		timeout:   cfg.Timeout,
	}
	c.announce = queryPrefix(u, u.Path)
	if p, ok := scrapePath(u.Path); ok {
		c.scrape = queryPrefix(u, p)
	}
	return c, nil
}

// queryPrefix returns the URL with path p, ready for parameters to be
// appended: it ends in '?' or, when the URL has a query already (a
// passkey, say), in '&'.
func queryPrefix(u *url.URL, p string) []byte {
	v := *u
	v.Path, v.RawPath, v.Fragment = p, "", ""
	s := v.String()
	if v.RawQuery == "" {
		return []byte(s + "?")
	}
	return []byte(s + "&")
}

func (c *httpClient) session(int) (session, error) {
	s := &httpSession{c: c, req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
	if c.connClose {
		s.req.SetConnectionClose()
	}
	return s, nil
}

func (c *httpClient) close() { c.hc.CloseIdleConnections() }

// httpSession is one worker's request and response, reused.
type httpSession struct {
	c    *httpClient
	req  *fasthttp.Request
	resp *fasthttp.Response
	url  []byte
}

// statusError is an HTTP status other than 200.
type statusError int

func (e statusError) Error() string { return "HTTP status " + strconv.Itoa(int(e)) }

func (s *httpSession) do(q *query, a *answer) error {
	s.url = s.c.appendURL(s.url[:0], q)
	s.req.SetRequestURIBytes(s.url)
	if err := s.c.hc.DoDeadline(s.req, s.resp, time.Now().Add(s.c.timeout)); err != nil {
		return err
	}
	if code := s.resp.StatusCode(); code != fasthttp.StatusOK {
		return statusError(code)
	}
	body := s.resp.Body()
	var err error
	if q.action == ActionScrape {
		err = parseScrapeAnswer(body, a)
	} else {
		err = parseAnnounceAnswer(body, a)
	}
	if err != nil {
		return fmt.Errorf("%s answer: %w", q.action, err)
	}
	return nil
}

func (s *httpSession) close() {
	fasthttp.ReleaseRequest(s.req)
	fasthttp.ReleaseResponse(s.resp)
}

// appendURL appends the request URL of q to b without formatting strings:
// the info hash is escaped already and the peer ID needs no escaping.
func (c *httpClient) appendURL(b []byte, q *query) []byte {
	if q.action == ActionScrape {
		b = append(b, c.scrape...)
		b = append(b, "info_hash="...)
		return append(b, q.t.escaped...)
	}
	p := q.p
	b = append(b, c.announce...)
	b = append(b, "info_hash="...)
	b = append(b, q.t.escaped...)
	b = append(b, "&peer_id="...)
	b = append(b, p.id[:]...)
	b = append(b, "&port="...)
	b = strconv.AppendUint(b, uint64(p.port), 10)
	b = append(b, "&uploaded="...)
	b = strconv.AppendInt(b, q.up, 10)
	b = append(b, "&downloaded="...)
	b = strconv.AppendInt(b, q.down, 10)
	b = append(b, "&left="...)
	b = strconv.AppendInt(b, q.left, 10)
	b = append(b, "&compact=1&numwant="...)
	if q.action == ActionStopped {
		b = append(b, '0')
	} else {
		b = strconv.AppendInt(b, int64(c.numWant), 10)
	}
	b = append(b, "&key="...)
	b = strconv.AppendUint(b, uint64(p.key), 16)
	switch q.action {
	case ActionStarted:
		b = append(b, "&event=started"...)
	case ActionCompleted:
		b = append(b, "&event=completed"...)
	case ActionStopped:
		b = append(b, "&event=stopped"...)
	}
	return b
}

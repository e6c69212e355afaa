package trackerload

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	"github.com/bitorigin/bitorigin/udpwire"
)

// connIDLifetime is how long a connection ID is used: BEP 15 lets a client
// use one for a minute after it got it; a margin keeps clear of the edge.
const connIDLifetime = 50 * time.Second

// udpClient announces and scrapes over UDP (BEP 15); each session has its
// own socket and connection ID, as separate clients would.
type udpClient struct {
	addr     *net.UDPAddr
	numWant  int
	timeout  time.Duration
	peerSize int
}

func newUDPClient(u *url.URL, cfg *Config) (*udpClient, error) {
	addr, err := net.ResolveUDPAddr("udp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", u, err)
	}
	size := 6
	if addr.IP.To4() == nil {
		size = 18
	}
	return &udpClient{addr: addr, numWant: cfg.NumWant, timeout: cfg.Timeout, peerSize: size}, nil
}

func (c *udpClient) session(worker int) (session, error) {
	conn, err := net.DialUDP("udp", nil, c.addr)
	if err != nil {
		return nil, fmt.Errorf("UDP socket to %s: %w", c.addr, err)
	}
	return &udpSession{
		c:    c,
		conn: conn,
		r:    rand.New(rand.NewPCG(uint64(worker), uint64(time.Now().UnixNano()))),
		in:   make([]byte, 64<<10),
	}, nil
}

func (c *udpClient) close() {}

// udpSession is one worker's socket and connection ID.
type udpSession struct {
	c      *udpClient
	conn   *net.UDPConn
	r      *rand.Rand
	connID uint64
	connAt time.Time
	out    []byte
	in     []byte
	stats  []udpwire.ScrapeStats
}

func (s *udpSession) do(q *query, a *answer) error {
	deadline := time.Now().Add(s.c.timeout)
	if err := s.conn.SetDeadline(deadline); err != nil {
		return err
	}
	if s.connAt.IsZero() || time.Since(s.connAt) > connIDLifetime {
		if err := s.connect(); err != nil {
			return err
		}
		a.connected = true
	}
	tid := s.r.Uint32()
	want := udpwire.ActionAnnounce
	if q.action == ActionScrape {
		want = udpwire.ActionScrape
		s.out = udpwire.AppendScrapeRequest(s.out[:0], s.connID, tid, [][20]byte{q.t.hash})
	} else {
		s.out = appendUDPAnnounce(s.out[:0], s.connID, tid, q, s.c.numWant)
	}
	b, err := s.exchange(tid)
	if err != nil {
		return fmt.Errorf("UDP %s: %w", q.action, err)
	}
	if s.stats, err = parseUDPAnswer(b, want, s.c.peerSize, s.stats, a); err != nil {
		return err
	}
	if a.failure {
		// The connection ID may have expired on the tracker's side: get
		// a fresh one next time.
		s.connAt = time.Time{}
	}
	return nil
}

// connect gets a connection ID.
func (s *udpSession) connect() error {
	tid := s.r.Uint32()
	s.out = udpwire.AppendConnectRequest(s.out[:0], tid)
	b, err := s.exchange(tid)
	if err != nil {
		return fmt.Errorf("UDP connect: %w", err)
	}
	_, id, err := udpwire.ParseConnectResponse(b)
	if err != nil {
		return fmt.Errorf("UDP connect: %w: %w", errMalformed, err)
	}
	s.connID, s.connAt = id, time.Now()
	return nil
}

// exchange sends s.out and returns the first answer with transaction ID
// tid; answers to earlier, timed-out requests are skipped. The socket's
// deadline bounds it.
func (s *udpSession) exchange(tid uint32) ([]byte, error) {
	if _, err := s.conn.Write(s.out); err != nil {
		return nil, err
	}
	for {
		n, err := s.conn.Read(s.in)
		if err != nil {
			return nil, err
		}
		if _, got, err := udpwire.ResponseAction(s.in[:n]); err == nil && got == tid {
			return s.in[:n], nil
		}
	}
}

func (s *udpSession) close() { s.conn.Close() }

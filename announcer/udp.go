package announcer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/udpwire"
)

// UDPClient announces to udp:// trackers (BEP 15). It keeps each tracker's
// connection ID for the minute BEP 15 allows, so a regular announce is one
// round trip, and carries the URL's path and query as BEP 41 URL data.
type UDPClient struct {
	// Timeout is the wait for the first answer; it doubles with each
	// retransmission, as BEP 15 describes (15 s there; 15 s when 0).
	Timeout time.Duration
	// Retries is how many times a request is sent again after a time-out
	// (BEP 15 allows 8; 3 when 0, since the announce loop retries too).
	Retries int

	mu  sync.Mutex
	ids map[netip.AddrPort]connID
}

type connID struct {
	id  uint64
	got time.Time
}

// connIDLifetime is how long a client may use a connection ID (BEP 15).
const connIDLifetime = time.Minute

// NewUDPClient returns a UDPClient with BEP 15's timing, scaled down by
// the announce loop's own retries.
func NewUDPClient() *UDPClient { return &UDPClient{} }

// errBadConnID is a tracker's refusal of an expired or foreign
// connection ID: connect again and retry at once.
var errBadConnID = errors.New("tracker refused the connection ID")

// Announce sends req to the tracker at trackerURL.
func (c *UDPClient) Announce(ctx context.Context, trackerURL string, req *Request) (*Response, error) {
	u, err := url.Parse(trackerURL)
	if err != nil || u.Scheme != "udp" || u.Port() == "" {
		return nil, fmt.Errorf("tracker %s: want udp://host:port", trackerURL)
	}
	addrs, err := resolve(ctx, u.Hostname(), req.Family)
	if err != nil {
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	port, err := net.LookupPort("udp", u.Port())
	if err != nil {
		return nil, fmt.Errorf("tracker %s: port: %w", trackerURL, err)
	}
	to := netip.AddrPortFrom(addrs[0].Unmap(), uint16(port))
	conn, err := net.DialUDP(req.Family.network("udp"), nil, net.UDPAddrFromAddrPort(to))
	if err != nil {
		if unreachable(err) {
			err = fmt.Errorf("%w: %w", ErrNoRoute, err)
		}
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	defer conn.Close()
	// A read waits for its deadline, not for ctx: closing the socket ends
	// it, so a cancelled announce (shutdown, Remove) returns at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	ar := udpwire.AnnounceRequest{
		InfoHash:   req.InfoHash,
		PeerID:     req.PeerID,
		Downloaded: req.Downloaded,
		Left:       req.Left,
		Uploaded:   req.Uploaded,
		Key:        req.Key,
		NumWant:    int32(req.NumWant),
		Port:       req.Port,
		URLData:    []byte(u.RequestURI()),
	}
	if u.RequestURI() == "/" {
		ar.URLData = nil
	}
	switch req.Event {
	case EventStarted:
		ar.Event = udpwire.EventStarted
	case EventStopped:
		ar.Event = udpwire.EventStopped
	case EventCompleted:
		ar.Event = udpwire.EventCompleted
	}
	if req.IP.Is4() {
		ar.IP = req.IP.As4()
	}
	entry := 6
	if !to.Addr().Is4() {
		entry = 18
	}
	resp, err := c.announce(ctx, conn, to, &ar, entry)
	if errors.Is(err, errBadConnID) {
		c.forget(to)
		resp, err = c.announce(ctx, conn, to, &ar, entry)
	}
	if err != nil {
		var fe *FailureError
		if errors.As(err, &fe) {
			fe.URL = trackerURL
			return nil, fe
		}
		return nil, fmt.Errorf("tracker %s: %w", trackerURL, err)
	}
	return resp, nil
}

func (c *UDPClient) announce(ctx context.Context, conn *net.UDPConn, to netip.AddrPort, ar *udpwire.AnnounceRequest, entry int) (*Response, error) {
	id, err := c.connectionID(ctx, conn, to)
	if err != nil {
		return nil, err
	}
	ar.ConnectionID = id
	ar.TransactionID = rand.Uint32()
	reply, err := c.exchange(ctx, conn, udpwire.AppendAnnounceRequest(nil, ar), ar.TransactionID)
	if err != nil {
		return nil, err
	}
	var r udpwire.AnnounceResponse
	if err := udpwire.ParseAnnounceResponse(reply, entry, &r); err != nil {
		return nil, fmt.Errorf("announce response: %w", err)
	}
	resp := &Response{Interval: time.Duration(r.Interval) * time.Second, Seeders: int(r.Seeders), Leechers: int(r.Leechers)}
	for i := 0; i+entry <= len(r.Peers); i += entry {
		var a netip.Addr
		if entry == 6 {
			a = netip.AddrFrom4([4]byte(r.Peers[i : i+4]))
		} else {
			a = netip.AddrFrom16([16]byte(r.Peers[i : i+16])).Unmap()
		}
		port := uint16(r.Peers[i+entry-2])<<8 | uint16(r.Peers[i+entry-1])
		if port != 0 {
			resp.Peers = append(resp.Peers, netip.AddrPortFrom(a, port))
		}
	}
	return resp, nil
}

// connectionID returns a cached ID for the tracker or asks for a new one.
func (c *UDPClient) connectionID(ctx context.Context, conn *net.UDPConn, to netip.AddrPort) (uint64, error) {
	c.mu.Lock()
	cached, ok := c.ids[to]
	c.mu.Unlock()
	if ok && time.Since(cached.got) < connIDLifetime {
		return cached.id, nil
	}
	tid := rand.Uint32()
	reply, err := c.exchange(ctx, conn, udpwire.AppendConnectRequest(nil, tid), tid)
	if err != nil {
		return 0, fmt.Errorf("connect: %w", err)
	}
	_, id, err := udpwire.ParseConnectResponse(reply)
	if err != nil {
		return 0, fmt.Errorf("connect response: %w", err)
	}
	c.mu.Lock()
	if c.ids == nil {
		c.ids = make(map[netip.AddrPort]connID)
	}
	c.ids[to] = connID{id: id, got: time.Now()}
	c.mu.Unlock()
	return id, nil
}

func (c *UDPClient) forget(to netip.AddrPort) {
	c.mu.Lock()
	delete(c.ids, to)
	c.mu.Unlock()
}

// exchange sends pkt and waits for the answer with transaction ID tid,
// sending again after Timeout × 2^n for n up to Retries (BEP 15). An error
// packet becomes a *FailureError, or errBadConnID.
func (c *UDPClient) exchange(ctx context.Context, conn *net.UDPConn, pkt []byte, tid uint32) ([]byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	retries := c.Retries
	if retries <= 0 {
		retries = 3
	}
	buf := make([]byte, 2048)
	for n := 0; n <= retries; n++ {
		if _, err := conn.Write(pkt); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("no answer: %w", cerr)
			}
			return nil, fmt.Errorf("send: %w", err)
		}
		deadline := time.Now().Add(timeout << n)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		if err := conn.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("set deadline: %w", err)
		}
		for {
			k, err := conn.Read(buf)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // send again
				}
				if cerr := ctx.Err(); cerr != nil {
					return nil, fmt.Errorf("no answer: %w", cerr)
				}
				// ICMP port unreachable and the like: nobody is there.
				return nil, fmt.Errorf("receive: %w", err)
			}
			action, got, err := udpwire.ResponseAction(buf[:k])
			if err != nil || got != tid {
				continue // a stray or late packet
			}
			if action == udpwire.ActionError {
				_, msg, _ := udpwire.ParseError(buf[:k])
				if msg == "bad connection id" {
					return nil, errBadConnID
				}
				return nil, &FailureError{Reason: msg}
			}
			return append([]byte(nil), buf[:k]...), nil
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("no answer: %w", err)
		}
	}
	return nil, fmt.Errorf("no answer after %d tries", retries+1)
}

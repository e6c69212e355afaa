package udpfront

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// serve reads and answers packets until conn is closed, a batch at a time
// unless the batch is one packet.
func (s *Server) serve(conn *net.UDPConn) {
	if s.cfg.Batch <= 1 {
		s.readLoop(conn)
		return
	}
	w := s.newWorker()
	b := newBatch(conn, s.cfg.Batch)
	for {
		err := w.serveBatch(b)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			s.cfg.Logger.Warn("udp read", "err", err)
		}
	}
}

// batch is one reader's messages for recvmmsg and sendmmsg, allocated once.
type batch struct {
	// conn reads and writes messages of either family: on Linux,
	// ipv4.PacketConn's batches are plain recvmmsg and sendmmsg.
	conn *ipv4.PacketConn
	in   []ipv4.Message
	// out holds the answers of one batch, in the order of their requests.
	out []ipv4.Message
	// answers are the buffers answers are written in, one per request.
	answers [][]byte
}

func newBatch(conn *net.UDPConn, size int) *batch {
	b := &batch{
		conn:    ipv4.NewPacketConn(conn),
		in:      make([]ipv4.Message, size),
		out:     make([]ipv4.Message, size),
		answers: make([][]byte, size),
	}
	for i := range size {
		b.in[i].Buffers = [][]byte{make([]byte, maxPacket)}
		b.out[i].Buffers = make([][]byte, 1)
		b.answers[i] = make([]byte, 0, maxPacket)
	}
	return b
}

// serveBatch reads the packets waiting on the socket, up to a batch (it
// waits for one if there are none), and sends their answers together.
func (w *worker) serveBatch(b *batch) error {
	n, err := b.conn.ReadBatch(b.in, 0)
	if err != nil {
		return fmt.Errorf("udpfront: read batch: %w", err)
	}
	out := 0
	for i := range b.in[:n] {
		m := &b.in[i]
		ua, ok := m.Addr.(*net.UDPAddr)
		if !ok {
			continue
		}
		from := ua.AddrPort()
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		reply := w.answer(b.answers[i][:0], m.Buffers[0][:m.N], from)
		if len(reply) == 0 {
			continue
		}
		// The answer goes back to the address as the socket gave it
		// (IPv4-mapped on a dual-stack socket), which sendmmsg takes.
		b.out[out].Buffers[0] = reply
		b.out[out].Addr = m.Addr
		out++
	}
	w.writeAll(b, b.out[:out])
	return nil
}

// writeAll sends every answer in ms. A failed answer (the client went away)
// is nothing to act on, but must not keep the answers after it from going.
func (w *worker) writeAll(b *batch, ms []ipv4.Message) {
	for len(ms) > 0 {
		n, err := b.conn.WriteBatch(ms, 0)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil || n <= 0 {
			n = max(n, 0) + 1 // skip the message that failed
		}
		ms = ms[min(n, len(ms)):]
	}
}

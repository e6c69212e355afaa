package dhtnode

import "net"

// countingConn counts the packets and bytes of the node's socket.
type countingConn struct {
	net.PacketConn
	m *nodeMetrics
}

func (c countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.m.packet(false, n)
	}
	return n, a, err
}

func (c countingConn) WriteTo(b []byte, a net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, a)
	if err == nil {
		c.m.packet(true, n)
	}
	return n, err
}

//go:build !linux

package udpfront

import "net"

// serve reads and answers packets one at a time until conn is closed:
// recvmmsg and sendmmsg, which batches need, are Linux system calls.
func (s *Server) serve(conn *net.UDPConn) {
	s.readLoop(conn)
}

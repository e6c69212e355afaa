package trackerload

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/valyala/fasthttp"
)

// Error classes, as reports count them.
const (
	errTimeout   = "timeout"
	errRefused   = "refused"
	errReset     = "reset"
	errClosed    = "closed"
	errPorts     = "no_local_ports"
	errStatus    = "http_status"
	errBadAnswer = "malformed"
	errOther     = "other"
)

// classify sorts an error from a session into a class a report can count;
// the first error of each class is kept as an example.
func classify(err error) string {
	var status statusError
	var ne net.Error
	switch {
	case errors.Is(err, errMalformed):
		return errBadAnswer
	case errors.As(err, &status):
		return errStatus
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout),
		errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return errRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return errReset
	case errors.Is(err, syscall.EADDRNOTAVAIL), errors.Is(err, syscall.EADDRINUSE):
		return errPorts
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, fasthttp.ErrConnectionClosed):
		return errClosed
	}
	return errOther
}

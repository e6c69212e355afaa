//go:build !unix

package httpfront

import "errors"

// Connections are served on raw descriptors only on Linux (rawListener):
// elsewhere these are never called.
func fdRead(uintptr, []byte) (int, error)  { return 0, errors.ErrUnsupported }
func fdWrite(uintptr, []byte) (int, error) { return 0, errors.ErrUnsupported }

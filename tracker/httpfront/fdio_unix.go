//go:build unix

package httpfront

import "syscall"

// fdRead and fdWrite are one read or write on a raw descriptor.
func fdRead(fd uintptr, p []byte) (int, error)  { return syscall.Read(int(fd), p) }
func fdWrite(fd uintptr, p []byte) (int, error) { return syscall.Write(int(fd), p) }

//go:build !linux

package storage

import "os"

// sigOf is fi's signature: size and modification time only, where the
// inode and change time are not portable.
func sigOf(fi os.FileInfo) sig {
	return sig{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

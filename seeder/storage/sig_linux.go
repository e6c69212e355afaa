package storage

import (
	"os"
	"syscall"
)

// sigOf is fi's signature. On Linux the inode and the change time join
// size and modification time: a file replaced by a rename, or rewritten
// and given its old modification time back (touch -r, rsync -t), still
// shows.
func sigOf(fi os.FileInfo) sig {
	s := sig{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		s.dev, s.ino = uint64(st.Dev), st.Ino
		s.ctime = st.Ctim.Nano()
	}
	return s
}

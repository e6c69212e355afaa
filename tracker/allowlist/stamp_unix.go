//go:build unix

package allowlist

import (
	"os"
	"syscall"
)

func stampOf(st os.FileInfo) *fileStamp {
	s := &fileStamp{size: st.Size(), modTime: st.ModTime()}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.ino = sys.Ino
	}
	return s
}

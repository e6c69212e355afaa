// Package allowlist is the publisher's list of torrents a tracker serves,
// read from a file of hex info hashes and reloaded when it changes.
package allowlist

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// List is an allow list loaded from a file. Its methods are safe for
// concurrent use; a reload swaps the whole set at once, so a lookup never sees
// half a file.
type List struct {
	path string
	log  *slog.Logger
	set  atomic.Pointer[map[tracker.InfoHash]struct{}]
	// stamp is the file's identity at the last load, to notice changes.
	stamp atomic.Pointer[fileStamp]
}

type fileStamp struct {
	size    int64
	modTime time.Time
	ino     uint64
}

var _ tracker.Allower = (*List)(nil)

// Load reads the allow list at path. Each line holds one 40-character hex
// info hash; blank lines and text after '#' are ignored.
func Load(path string, log *slog.Logger) (*List, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &List{path: path, log: log}
	if _, err := l.Reload(); err != nil {
		return nil, err
	}
	return l, nil
}

// Allowed reports whether h is on the list.
func (l *List) Allowed(h tracker.InfoHash) bool {
	_, ok := (*l.set.Load())[h]
	return ok
}

// Hashes returns the torrents on the list, in no particular order.
func (l *List) Hashes() []tracker.InfoHash {
	set := *l.set.Load()
	out := make([]tracker.InfoHash, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	return out
}

// Len returns the number of torrents on the list.
func (l *List) Len() int { return len(*l.set.Load()) }

// Reload reads the file again. On error the list in force is kept. It
// returns the number of torrents now on the list.
func (l *List) Reload() (int, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return 0, fmt.Errorf("allow list: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("allow list: %w", err)
	}
	set, err := Parse(f)
	if err != nil {
		return 0, fmt.Errorf("allow list %s: %w", l.path, err)
	}
	l.set.Store(&set)
	l.stamp.Store(stampOf(st))
	return len(set), nil
}

// Parse reads allow-list lines from r.
func Parse(r io.Reader) (map[tracker.InfoHash]struct{}, error) {
	set := make(map[tracker.InfoHash]struct{})
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<16)
	for line := 1; sc.Scan(); line++ {
		text := sc.Bytes()
		if i := bytes.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		word := strings.TrimSpace(string(text))
		if word == "" {
			continue
		}
		h, err := tracker.ParseInfoHash(strings.ToLower(word))
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		set[h] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return set, nil
}

// Watch reloads the list whenever a value arrives on reload (SIGHUP, say)
// and when the file's size, modification time or inode changes, checking
// every poll. It returns when ctx ends. Swarms are never dropped by a reload:
// the tracker only stops answering for torrents no longer listed.
func (l *List) Watch(ctx context.Context, reload <-chan os.Signal, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload:
			l.reloadAndLog("signal")
		case <-t.C:
			st, err := os.Stat(l.path)
			if err != nil {
				continue // reported when the file is read again
			}
			if old := l.stamp.Load(); old != nil && *old == *stampOf(st) {
				continue
			}
			l.reloadAndLog("file changed")
		}
	}
}

func (l *List) reloadAndLog(why string) {
	n, err := l.Reload()
	if err != nil {
		l.log.Error("allow list not reloaded; keeping the previous one", "reason", why, "err", err, "torrents", l.Len())
		return
	}
	l.log.Info("allow list reloaded", "reason", why, "path", l.path, "torrents", n)
}

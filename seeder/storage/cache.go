package storage

import (
	"container/list"
	"errors"
	"fmt"
	"os"
	"sync"
)

// handle is an open file, shared by the reads in progress on it.
type handle struct {
	index   int
	f       *os.File
	refs    int
	evicted bool          // dropped from the cache; closed when refs reaches 0
	elem    *list.Element // position in the LRU list while cached
}

// fileCache keeps up to max files open, closing the least recently used
// one that no read is using when it needs room.
type fileCache struct {
	paths []string
	max   int

	mu    sync.Mutex
	open  map[int]*handle
	lru   *list.List // of *handle, most recently used at the front
	close func(*os.File) error
}

func newFileCache(paths []string, max int) *fileCache {
	return &fileCache{
		paths: paths,
		max:   max,
		open:  make(map[int]*handle),
		lru:   list.New(),
		close: (*os.File).Close,
	}
}

// acquire returns file i open, and whether it was opened now rather than
// found in the cache; release must follow.
func (c *fileCache) acquire(i int) (*handle, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.open[i]; ok {
		h.refs++
		c.lru.MoveToFront(h.elem)
		return h, false, nil
	}
	f, err := os.Open(c.paths[i])
	if err != nil {
		return nil, false, fmt.Errorf("storage: %w", err)
	}
	h := &handle{index: i, f: f, refs: 1}
	h.elem = c.lru.PushFront(h)
	c.open[i] = h
	c.evict()
	return h, true, nil
}

// forget drops file i from the cache, so that the next read opens the
// path again (it may lead to another file now). Reads in progress finish
// on the old handle, closed after the last.
func (c *fileCache) forget(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if h, ok := c.open[i]; ok {
		c.drop(h)
		if h.refs == 0 {
			c.close(h.f)
		}
	}
}

// evict drops idle handles from the back of the LRU list while over max.
// Busy handles stay; they are closed once their last read releases them.
func (c *fileCache) evict() {
	for e := c.lru.Back(); e != nil && c.lru.Len() > c.max; {
		h := e.Value.(*handle)
		prev := e.Prev()
		if h.refs == 0 {
			c.drop(h)
			c.close(h.f)
		}
		e = prev
	}
}

func (c *fileCache) drop(h *handle) {
	c.lru.Remove(h.elem)
	delete(c.open, h.index)
	h.evicted = true
}

func (c *fileCache) release(h *handle) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h.refs--
	if h.refs == 0 && h.evicted {
		c.close(h.f)
	}
}

// openCount is the number of handles held open, for tests.
func (c *fileCache) openCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

func (c *fileCache) closeAll() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, h := range c.open {
		c.drop(h)
		if h.refs == 0 {
			if err := c.close(h.f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

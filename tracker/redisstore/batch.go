package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the announces that arrive while earlier ones are on the
// wire as one pipeline. Under load this turns many small request/response
// exchanges into a few large ones, which saves both Redis and the tracker
// most of their system calls; each announce is still one EVALSHA, and alone
// it goes out at once.
type batcher struct {
	c       redis.UniversalClient
	calls   chan *call
	maxSize int
	wg      sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
}

// call is one announce waiting for its batch.
type call struct {
	keys []string
	args []any
	res  []any
	err  error
	done chan struct{}
}

var callPool = sync.Pool{New: func() any { return &call{done: make(chan struct{}, 1)} }}

// errClosed answers announces that arrive after Close.
var errClosed = errors.New("redisstore: closed")

func newBatcher(c redis.UniversalClient, workers, maxSize int) *batcher {
	b := &batcher{c: c, calls: make(chan *call, workers*maxSize), maxSize: maxSize, stop: make(chan struct{})}
	for range workers {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

// do runs one announce script through a batch and returns its reply.
func (b *batcher) do(keys []string, args []any) ([]any, error) {
	c := callPool.Get().(*call)
	c.keys, c.args, c.res, c.err = keys, args, nil, nil
	select {
	case b.calls <- c:
	case <-b.stop:
		callPool.Put(c)
		return nil, errClosed
	}
	<-c.done
	res, err := c.res, c.err
	c.keys, c.args, c.res, c.err = nil, nil, nil, nil
	callPool.Put(c)
	return res, err
}

func (b *batcher) run() {
	defer b.wg.Done()
	batch := make([]*call, 0, b.maxSize)
	cmds := make([]*redis.Cmd, 0, b.maxSize)
	for {
		select {
		case <-b.stop:
			// Answer whatever is still queued.
			for {
				select {
				case c := <-b.calls:
					c.err = errClosed
					c.done <- struct{}{}
				default:
					return
				}
			}
		case c := <-b.calls:
			batch = append(batch[:0], c)
		}
	fill:
		for len(batch) < b.maxSize {
			select {
			case c := <-b.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		cmds = b.exec(batch, cmds[:0])
		for _, c := range batch {
			c.done <- struct{}{}
		}
	}
}

// exec sends the batch as one pipeline of EVALSHA, loading the script and
// sending again the ones Redis did not know it for (after a restart, or
// on a Cluster node that is new).
func (b *batcher) exec(batch []*call, cmds []*redis.Cmd) []*redis.Cmd {
	ctx := context.Background()
	cmds = b.pipeline(ctx, batch, cmds)
	var retry []*call
	for i, c := range batch {
		if isNoScript(cmds[i].Err()) {
			retry = append(retry, c)
			continue
		}
		c.res, c.err = cmds[i].Slice()
	}
	if len(retry) == 0 {
		return cmds
	}
	if err := announceScript.Load(ctx, b.c).Err(); err != nil {
		for _, c := range retry {
			c.err = fmt.Errorf("load announce script: %w", err)
		}
		return cmds
	}
	cmds = b.pipeline(ctx, retry, cmds[:0])
	for i, c := range retry {
		c.res, c.err = cmds[i].Slice()
	}
	return cmds
}

func (b *batcher) pipeline(ctx context.Context, batch []*call, cmds []*redis.Cmd) []*redis.Cmd {
	p := b.c.Pipeline()
	for _, c := range batch {
		cmds = append(cmds, announceScript.EvalSha(ctx, p, c.keys, c.args...))
	}
	// Errors are per command; Exec's own is the first of them.
	_, _ = p.Exec(ctx)
	return cmds
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

func (b *batcher) close() {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
	})
}

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// batcher sends the announces (and scrapes) that arrive while earlier ones
// are on the wire as one pipeline. Under load this turns many small
// request/response exchanges into a few large ones, which saves both Redis
// and the tracker most of their system calls; each announce is still one
// EVALSHA, a scrape its own counting commands, and alone either goes out at
// once.
//
// Every call carries a deadline, and its caller stops waiting at the
// deadline whatever the workers are doing, so a call fails within the
// store's timeout however many are queued and however go-redis spends its
// time. The queue is bounded: when it is full, a call fails at once
// instead of adding to a pile nobody can answer in time.
type batcher struct {
	c       redis.UniversalClient
	calls   chan *call
	maxSize int
	wg      sync.WaitGroup
	// ctx ends when the batcher closes: queued calls are answered at once
	// and no new pipeline starts. One already on the wire runs to its
	// deadline (go-redis cuts a read short by deadline, not by
	// cancellation), so Close waits at most the store's timeout.
	ctx    context.Context
	cancel context.CancelFunc

	// mu orders enqueueing against close: a call is enqueued only under
	// the read lock with closed false, and close sets closed under the
	// write lock before the workers drain the queue, so no call can land
	// in the queue after the workers have left.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
}

// call is one announce, or a scrape's commands, waiting for its batch.
type call struct {
	keys []string
	args []any
	// plain, when not nil, are commands to send as they are, in place of
	// the announce script.
	plain    []redis.Cmder
	deadline time.Time
	res      []any
	err      error
	done     chan struct{}
	timer    *time.Timer
}

// refuse answers c with err without sending it.
func (c *call) refuse(err error) {
	c.err = err
	c.done <- struct{}{}
}

var callPool = sync.Pool{New: func() any {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &call{done: make(chan struct{}, 1), timer: t}
}}

var (
	// errClosed answers calls that arrive after Close.
	errClosed = errors.New("redisstore: closed")
	// errQueueFull answers announces and scrapes that find the queue
	// full: Redis is not keeping up, and waiting would only make the
	// answer late.
	errQueueFull = errors.New("redisstore: request queue full")
	// errTimeout answers calls whose deadline passed before Redis
	// answered them.
	errTimeout = errors.New("redisstore: no answer from Redis within the timeout")
)

func newBatcher(c redis.UniversalClient, workers, maxSize, maxQueued int) *batcher {
	ctx, cancel := context.WithCancel(context.Background())
	b := &batcher{c: c, calls: make(chan *call, maxQueued), maxSize: maxSize, ctx: ctx, cancel: cancel}
	for range workers {
		b.wg.Add(1)
		go b.run()
	}
	return b
}

// do runs one announce script through a batch and returns its reply. It
// returns by the deadline (or when ctx ends, if sooner) whatever happens to
// the call.
func (b *batcher) do(ctx context.Context, deadline time.Time, keys []string, args []any) ([]any, error) {
	c := callPool.Get().(*call)
	c.keys, c.args = keys, args
	if err := b.await(ctx, deadline, c); err != nil {
		return nil, err
	}
	res, err := c.res, c.err
	c.keys, c.args, c.res, c.err = nil, nil, nil, nil
	callPool.Put(c)
	return res, err
}

// send runs plain commands (a scrape's) through a batch, so that they
// share its round trip instead of taking one of their own. Each command
// holds its own reply or error once sent; send's error says that they were
// not sent (the queue was full, the store closed, or the deadline passed
// first), and then the commands hold nothing. Like do, it returns by the
// deadline.
func (b *batcher) send(ctx context.Context, deadline time.Time, cmds []redis.Cmder) error {
	c := callPool.Get().(*call)
	c.plain = cmds
	if err := b.await(ctx, deadline, c); err != nil {
		return err
	}
	// A worker that found the call past its deadline, or the store
	// closing, answered it without sending it.
	err := c.err
	c.plain, c.err = nil, nil
	callPool.Put(c)
	return err
}

// await queues c and waits for its batch. On an error c is no longer the
// caller's: it is back in the pool, or still with a worker that will
// signal it and leave it to the garbage collector.
func (b *batcher) await(ctx context.Context, deadline time.Time, c *call) error {
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	wait := time.Until(deadline)
	unqueued := func(err error) error {
		c.keys, c.args, c.plain = nil, nil, nil
		callPool.Put(c)
		return err
	}
	if wait <= 0 {
		return unqueued(errTimeout)
	}
	c.deadline, c.res, c.err = deadline, nil, nil
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return unqueued(errClosed)
	}
	select {
	case b.calls <- c:
	default:
		b.mu.RUnlock()
		return unqueued(errQueueFull)
	}
	b.mu.RUnlock()

	c.timer.Reset(wait)
	select {
	case <-c.done:
		c.timer.Stop()
		return nil
	case <-c.timer.C:
		// The worker still owns the call and will signal done; leave it
		// to the garbage collector rather than to the pool.
		return errTimeout
	case <-ctx.Done():
		c.timer.Stop()
		return fmt.Errorf("redisstore: abandoned: %w", ctx.Err())
	}
}

func (b *batcher) run() {
	defer b.wg.Done()
	batch := make([]*call, 0, b.maxSize)
	cmds := make([]*redis.Cmd, 0, b.maxSize)
	for {
		select {
		case <-b.ctx.Done():
			// Nothing is enqueued once the batcher is closed: answer
			// whatever is still queued, and leave.
			for {
				select {
				case c := <-b.calls:
					c.refuse(errClosed)
				default:
					return
				}
			}
		case c := <-b.calls:
			batch = b.admit(batch[:0], c)
		}
	fill:
		for len(batch) < b.maxSize {
			select {
			case c := <-b.calls:
				batch = b.admit(batch, c)
			default:
				break fill
			}
		}
		if len(batch) == 0 {
			continue
		}
		cmds = b.exec(batch, cmds[:0])
		for _, c := range batch {
			c.done <- struct{}{}
		}
	}
}

// admit adds c to the batch, or answers it at once when its caller has
// already given up: after an outage the queue may hold calls nobody waits
// for, and sending them would only delay the live ones.
func (b *batcher) admit(batch []*call, c *call) []*call {
	if !time.Now().Before(c.deadline) {
		c.refuse(errTimeout)
		return batch
	}
	return append(batch, c)
}

// exec sends the batch as one pipeline of EVALSHA, loading the script and
// sending again the ones Redis did not know it for (after a restart, or
// on a Cluster node that is new). The pipeline may run until the latest
// deadline in the batch: callers with earlier ones stop waiting by
// themselves.
func (b *batcher) exec(batch []*call, cmds []*redis.Cmd) []*redis.Cmd {
	deadline := batch[0].deadline
	for _, c := range batch[1:] {
		if c.deadline.After(deadline) {
			deadline = c.deadline
		}
	}
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()
	cmds = b.pipeline(ctx, batch, cmds)
	var retry []*call
	for i, c := range batch {
		if c.plain != nil {
			// Their replies and errors are in the commands.
			continue
		}
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
		if c.plain != nil {
			for _, cmd := range c.plain {
				_ = p.Process(ctx, cmd)
			}
			cmds = append(cmds, nil)
			continue
		}
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
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		b.cancel()
		b.wg.Wait()
	})
}

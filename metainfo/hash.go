package metainfo

import (
	"context"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
)

// maxBufferMemory bounds the piece buffers in flight, whatever the piece
// length and core count, so memory never grows with the data's size.
const maxBufferMemory = 256 << 20

// region is one file's share of a torrent's concatenated data.
type region struct {
	path    string // on disk; unused for padding
	length  int64
	padding bool // zeros, never on disk (BEP 47)
}

// regionRead is what reading one region found on disk.
type regionRead struct {
	size int64 // size on disk; -1 when it could not be opened
	err  error // why it could not be opened or read
}

// pieceJob is one piece's data on its way to a hashing worker.
type pieceJob struct {
	index int
	buf   []byte
	// data counts the bytes of buf that are not padding. In a layout
	// where every file starts a piece (v2 and hybrid), they are one
	// file's and come first.
	data int
	// complete is false when some bytes could not be read: such a piece
	// cannot match, so it is not hashed.
	complete bool
	// twin marks a piece of the data without its padding (hashRun.twin):
	// SHA-1 only.
	twin bool
}

// pieceResult is a worker's verdict on one piece.
type pieceResult struct {
	index  int
	size   int
	sum    [HashSize]byte // SHA-1 of the piece, padding included
	hashed bool
	// v2 is the piece's merkle root over blocksPerPiece leaves, its piece
	// layer hash; v2Small the root over only as many leaves as its file
	// data has blocks, rounded up to a power of two: the pieces root of a
	// file that fits in the piece. Both cover the file's bytes only.
	v2, v2Small Hash256
	// twin marks a piece of the twin's data (hashRun.twin).
	twin bool
}

// hashRun hashes the pieces of data laid out as regions. One goroutine reads
// the files in order with piece-sized reads, so the disk sees one sequential
// stream; workers on every core hash the filled buffers, two at a time when
// they can. A fixed set of buffers circulates between them, which bounds
// memory.
type hashRun struct {
	regions     []region
	pieceLength int64
	total       int64
	workers     int
	// v1 computes each piece's SHA-1; v2 its merkle roots, which needs a
	// layout where every file starts a piece.
	v1, v2 bool
	// twin also cuts the data without its padding files into pieces of
	// pieceLength and computes their SHA-1: the pieces of a hybrid's
	// v1-only twin, from the same read of the files. Results for them
	// have twin set.
	twin bool
	// strict makes any file problem end the run with an error (creating);
	// otherwise problems are recorded and the affected pieces marked
	// incomplete (verifying).
	strict   bool
	progress func(done, total int64)
	// onPiece receives each result on the goroutine that called run.
	onPiece func(pieceResult)
	// bufferMemory overrides maxBufferMemory, for tests.
	bufferMemory int64
}

func (h *hashRun) numPieces() int { return int(ceilDiv(h.total, h.pieceLength)) }

func (h *hashRun) pieceSize(i int) int64 { return sizeOf(i, h.total, h.pieceLength) }

// twinTotal is the length of the data without its padding.
func (h *hashRun) twinTotal() int64 {
	var n int64
	for _, r := range h.regions {
		if !r.padding {
			n += r.length
		}
	}
	return n
}

// sizeOf is the length of piece i of total bytes cut in pieces of
// pieceLength: only the last can be short.
func sizeOf(i int, total, pieceLength int64) int64 {
	if i == int(ceilDiv(total, pieceLength))-1 {
		if r := total % pieceLength; r != 0 {
			return r
		}
	}
	return pieceLength
}

// run hashes every piece and returns what it found for each region. All
// goroutines it starts have ended when it returns.
func (h *hashRun) run(ctx context.Context) ([]regionRead, error) {
	workers := h.workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	memory := h.bufferMemory
	if memory <= 0 {
		memory = maxBufferMemory
	}
	bufSize := min(h.pieceLength, h.total)
	// Two buffers per worker keep the reader ahead of the hashing. The
	// reader holds one partly filled buffer, two with a twin.
	held := int64(1)
	if h.twin {
		held = 2
	}
	nbuf := max(held+1, min(2*int64(workers)+2, memory/max(bufSize, 1)))
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, bufSize)
	}
	jobs := make(chan pieceJob, nbuf)
	results := make(chan pieceResult, nbuf)

	reads := make([]regionRead, len(h.regions))
	readErr := make(chan error, 1)
	go func() {
		defer close(jobs)
		readErr <- h.read(ctx, reads, free, jobs)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { h.hashPieces(jobs, free, results) })
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	var done int64
	total := h.total
	if h.twin {
		total += h.twinTotal()
	}
	for r := range results {
		h.onPiece(r)
		done += int64(r.size)
		if h.progress != nil {
			h.progress(done, total)
		}
	}
	// results is closed only after the reader closed jobs, so its error
	// is already waiting.
	if err := <-readErr; err != nil {
		return nil, err
	}
	return reads, nil
}

// hashPieces is one hashing worker: it hashes the pieces it is given and
// hands their buffers back to the reader.
func (h *hashRun) hashPieces(jobs <-chan pieceJob, free chan<- []byte, results chan<- pieceResult) {
	var leaves []Hash256
	pieceHeight := 0
	if h.v2 {
		pieceHeight = log2(h.pieceLength / BlockSize)
	}
	for job := range jobs {
		r := pieceResult{index: job.index, size: len(job.buf), hashed: job.complete, twin: job.twin}
		if job.complete && (h.v1 || job.twin) {
			r.sum = sha1.Sum(job.buf)
		}
		if job.complete && h.v2 && !job.twin && job.data > 0 {
			leaves = blockHashes(leaves[:0], job.buf[:job.data])
			var height int
			r.v2Small, height = reduceLeaves(leaves)
			r.v2 = extend(r.v2Small, height, pieceHeight)
		}
		free <- job.buf[:cap(job.buf)]
		results <- r
	}
}

// read fills piece buffers from the regions in order and queues them, and
// with h.twin the twin's piece buffers from the same bytes.
func (h *hashRun) read(ctx context.Context, reads []regionRead, free <-chan []byte, jobs chan<- pieceJob) error {
	var (
		buf      []byte
		fill     int64
		data     int
		index    int
		complete = true
		twin     twinPieces
	)
	if h.twin {
		twin = twinPieces{total: h.twinTotal(), pieceLength: h.pieceLength, complete: true}
	}
	for i, r := range h.regions {
		f, err := h.open(r, &reads[i])
		if err != nil {
			return err
		}
		readable := f != nil
		for remaining := r.length; remaining > 0; {
			if buf == nil {
				select {
				case b := <-free:
					buf = b[:h.pieceSize(index)]
				case <-ctx.Done():
					closeFile(f)
					return ctx.Err()
				}
			}
			n := min(remaining, int64(len(buf))-fill)
			dst := buf[fill : fill+n]
			if !r.padding {
				data += int(n)
			}
			switch {
			case r.padding:
				clear(dst)
			case !readable:
				complete = false
			default:
				if _, err := io.ReadFull(f, dst); err != nil {
					if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
						err = fmt.Errorf("%s: shorter than %d bytes", r.path, r.length)
					}
					if h.strict {
						closeFile(f)
						return fmt.Errorf("%w (did it change while hashing?)", err)
					}
					reads[i].err = err
					readable = false
					complete = false
				}
			}
			if h.twin && !r.padding {
				if err := twin.add(ctx, dst, readable, free, jobs); err != nil {
					closeFile(f)
					return err
				}
			}
			fill += n
			remaining -= n
			if fill == int64(len(buf)) {
				select {
				case jobs <- pieceJob{index: index, buf: buf, data: data, complete: complete}:
				case <-ctx.Done():
					closeFile(f)
					return ctx.Err()
				}
				buf, fill, data, complete = nil, 0, 0, true
				index++
			}
		}
		closeFile(f)
	}
	return nil
}

// twinPieces cuts the bytes given to add into the pieces of a hybrid's
// v1-only twin: the data without padding.
type twinPieces struct {
	total, pieceLength int64
	buf                []byte
	fill               int64
	index              int
	complete           bool
}

// add copies p, the next bytes of the data (readable false when they could
// not be read), and queues every piece it completes.
func (t *twinPieces) add(ctx context.Context, p []byte, readable bool, free <-chan []byte, jobs chan<- pieceJob) error {
	for len(p) > 0 {
		if t.buf == nil {
			select {
			case b := <-free:
				t.buf = b[:sizeOf(t.index, t.total, t.pieceLength)]
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		n := copy(t.buf[t.fill:], p)
		p = p[n:]
		t.fill += int64(n)
		t.complete = t.complete && readable
		if t.fill == int64(len(t.buf)) {
			select {
			case jobs <- pieceJob{index: t.index, buf: t.buf, data: len(t.buf), complete: t.complete, twin: true}:
			case <-ctx.Done():
				return ctx.Err()
			}
			t.buf, t.fill, t.complete = nil, 0, true
			t.index++
		}
	}
	return nil
}

// open opens a region's file and records its size, or records why it could
// not. It returns a nil file for padding and for files that cannot be read.
func (h *hashRun) open(r region, rr *regionRead) (*os.File, error) {
	rr.size = -1
	if r.padding {
		rr.size = r.length
		return nil, nil
	}
	f, err := os.Open(r.path)
	if err == nil {
		var st os.FileInfo
		if st, err = f.Stat(); err == nil && !st.Mode().IsRegular() {
			err = fmt.Errorf("%s: not a regular file", r.path)
		}
		if err != nil {
			f.Close()
		} else {
			rr.size = st.Size()
		}
	}
	switch {
	case err != nil && h.strict:
		return nil, err
	case err != nil:
		rr.err = err
		return nil, nil
	case h.strict && rr.size != r.length:
		f.Close()
		return nil, fmt.Errorf("%s: size changed from %d to %d bytes while creating the torrent", r.path, r.length, rr.size)
	}
	return f, nil
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}

package peerwire

import (
	"io"
	"net"
)

// DefaultWriterSize is the batch size of NewWriter: messages are sent once
// this many bytes are waiting, or on Flush.
const DefaultWriterSize = 4 << 10

// copyBlockMax is the largest block WritePiece copies into the batch;
// bigger blocks are handed to the connection as they are.
const copyBlockMax = 256

// Writer batches messages to a peer until Flush, and sends blocks without
// copying them. After a write error every method returns that error. It is
// not safe for concurrent use.
type Writer struct {
	w    io.Writer
	buf  []byte
	size int
	vec  [2][]byte
	bufs net.Buffers
	err  error
}

// NewWriter returns a Writer to w with a batch of DefaultWriterSize bytes.
func NewWriter(w io.Writer) *Writer { return NewWriterSize(w, DefaultWriterSize) }

// NewWriterSize returns a Writer to w that sends once size bytes are
// waiting; size is at least 64.
func NewWriterSize(w io.Writer, size int) *Writer {
	size = max(size, 64)
	return &Writer{w: w, buf: make([]byte, 0, size), size: size}
}

// WriteHandshake adds the handshake to the batch, so that the messages
// that follow it (a bitfield, an extension handshake) go in the same packet.
func (w *Writer) WriteHandshake(h Handshake) error {
	return w.add(h.AppendTo(w.AvailableBuffer()))
}

// WriteMessage adds m to the batch; a *Piece goes through WritePiece and is
// not copied. Passing &Request{...} makes the request escape to the heap; a
// hot path that must not allocate writes
// w.Write(req.AppendTo(w.AvailableBuffer())) instead.
func (w *Writer) WriteMessage(m Message) error {
	if p, ok := m.(*Piece); ok {
		return w.WritePiece(p.Index, p.Begin, p.Block)
	}
	return w.add(m.AppendTo(w.AvailableBuffer()))
}

// WriteKeepAlive adds a keep-alive (BEP 3) to the batch.
func (w *Writer) WriteKeepAlive() error {
	return w.add(append(w.AvailableBuffer(), 0, 0, 0, 0))
}

// AvailableBuffer returns an empty slice whose capacity is the batch's free
// space, for an encoder's AppendTo; Write then adds the result to the batch
// without a copy or an allocation.
func (w *Writer) AvailableBuffer() []byte { return w.buf[len(w.buf):] }

// Write adds p, which must be whole encoded messages, to the batch.
func (w *Writer) Write(p []byte) (int, error) {
	if err := w.add(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// add appends encoded bytes to the batch and sends the batch once it is
// full. p may be the result of appending to AvailableBuffer.
func (w *Writer) add(p []byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) >= w.size {
		return w.Flush()
	}
	return nil
}

// WritePiece sends a piece message carrying block (BEP 3), after whatever is
// batched, in order. The 13-byte header joins the batch and the block goes
// to the underlying writer as it is, in one writev when that is a
// connection of package net, so the block is never copied; block may be
// reused once WritePiece returns. A tiny block is just batched.
func (w *Writer) WritePiece(index, begin uint32, block []byte) error {
	if w.err != nil {
		return w.err
	}
	w.buf = appendPieceHeader(w.buf, index, begin, len(block))
	if len(block) <= copyBlockMax {
		return w.add(block)
	}
	w.vec = [2][]byte{w.buf, block}
	w.bufs = w.vec[:]
	_, err := w.bufs.WriteTo(w.w)
	w.vec, w.bufs = [2][]byte{}, nil
	w.reset()
	if err != nil {
		w.err = err
	}
	return err
}

// Flush sends every batched message.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	_, err := w.w.Write(w.buf)
	w.reset()
	if err != nil {
		w.err = err
	}
	return err
}

// Buffered is the number of bytes batched and not yet sent.
func (w *Writer) Buffered() int { return len(w.buf) }

// reset empties the batch, dropping a buffer a big message (a bitfield, a
// metadata piece) grew far beyond the batch size.
func (w *Writer) reset() {
	if cap(w.buf) > 4*w.size {
		w.buf = make([]byte, 0, w.size)
		return
	}
	w.buf = w.buf[:0]
}

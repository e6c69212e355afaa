package peerwire

// Messages of the Fast extension, BEP 6. A peer may send them only when both
// handshakes set Reserved.Fast; checking that is the caller's job.

// Suggest advises the peer to request a piece, typically one the sender has
// in cache (BEP 6).
type Suggest struct {
	Index uint32
}

// AppendTo appends the suggest piece message.
func (m Suggest) AppendTo(b []byte) []byte { return appendIndex(b, IDSuggest, m.Index) }

// HaveAll replaces the bitfield when the sender has every piece (BEP 6).
type HaveAll struct{}

// AppendTo appends the have all message.
func (HaveAll) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDHaveAll) }

// HaveNone replaces the bitfield when the sender has no piece (BEP 6).
type HaveNone struct{}

// AppendTo appends the have none message.
func (HaveNone) AppendTo(b []byte) []byte { return appendHeader(b, 1, IDHaveNone) }

// Reject answers a Request that will not be served (BEP 6). Its fields are
// the request's, so Reject(*req) builds one from a *Request.
type Reject struct {
	Index, Begin, Length uint32
}

// AppendTo appends the reject request message.
func (m Reject) AppendTo(b []byte) []byte {
	return appendBlockRef(b, IDReject, m.Index, m.Begin, m.Length)
}

// AllowedFast tells the peer it may request a piece even while choked
// (BEP 6).
type AllowedFast struct {
	Index uint32
}

// AppendTo appends the allowed fast message.
func (m AllowedFast) AppendTo(b []byte) []byte { return appendIndex(b, IDAllowedFast, m.Index) }

func (*Suggest) message()     {}
func (*HaveAll) message()     {}
func (*HaveNone) message()    {}
func (*Reject) message()      {}
func (*AllowedFast) message() {}

package udpwire

import "fmt"

// AnnounceRequest is a UDP announce (BEP 15) with its BEP 41 URL data.
type AnnounceRequest struct {
	ConnectionID  uint64
	TransactionID uint32
	InfoHash      [20]byte
	PeerID        [20]byte
	Downloaded    int64
	Left          int64
	Uploaded      int64
	Event         Event
	IP            [4]byte // 0.0.0.0 for the sender's address
	Key           uint32
	NumWant       int32 // -1 for the tracker's default
	Port          uint16
	// URLData is the path and query of the tracker URL, carried in BEP 41
	// options (several URL-data options concatenate). It aliases the
	// packet it was parsed from.
	URLData []byte
}

// Option types of BEP 41.
const (
	optionEnd     = 0
	optionNOP     = 1
	optionURLData = 2
)

// ParseAnnounceRequest decodes an announce packet. Unknown BEP 41 options
// are skipped; a truncated option is an error.
func ParseAnnounceRequest(b []byte, r *AnnounceRequest) error {
	if len(b) < AnnounceRequestSize {
		return fmt.Errorf("%w: announce of %d bytes", ErrShort, len(b))
	}
	if Action(be.Uint32(b[8:])) != ActionAnnounce {
		return ErrAction
	}
	r.ConnectionID = be.Uint64(b)
	r.TransactionID = be.Uint32(b[12:])
	copy(r.InfoHash[:], b[16:36])
	copy(r.PeerID[:], b[36:56])
	r.Downloaded = int64(be.Uint64(b[56:]))
	r.Left = int64(be.Uint64(b[64:]))
	r.Uploaded = int64(be.Uint64(b[72:]))
	r.Event = Event(be.Uint32(b[80:]))
	copy(r.IP[:], b[84:88])
	r.Key = be.Uint32(b[88:])
	r.NumWant = int32(be.Uint32(b[92:]))
	r.Port = be.Uint16(b[96:])
	r.URLData = r.URLData[:0]
	return parseOptions(b[AnnounceRequestSize:], r)
}

func parseOptions(b []byte, r *AnnounceRequest) error {
	var url []byte
	for i := 0; i < len(b); {
		switch b[i] {
		case optionEnd:
			r.URLData = url
			return nil
		case optionNOP:
			i++
		default:
			// URL data and unknown options alike carry a length byte.
			if i+1 >= len(b) {
				return ErrOptionShort
			}
			n := int(b[i+1])
			if i+2+n > len(b) {
				return ErrOptionShort
			}
			if b[i] == optionURLData {
				if url == nil {
					url = b[i+2 : i+2+n : i+2+n]
				} else {
					// Rare: a URL split over several options.
					url = append(url, b[i+2:i+2+n]...)
				}
			}
			i += 2 + n
		}
	}
	r.URLData = url
	return nil
}

// AppendAnnounceRequest writes an announce packet, with URLData as BEP 41
// options when it is not empty.
func AppendAnnounceRequest(b []byte, r *AnnounceRequest) []byte {
	b = be.AppendUint64(b, r.ConnectionID)
	b = be.AppendUint32(b, uint32(ActionAnnounce))
	b = be.AppendUint32(b, r.TransactionID)
	b = append(b, r.InfoHash[:]...)
	b = append(b, r.PeerID[:]...)
	b = be.AppendUint64(b, uint64(r.Downloaded))
	b = be.AppendUint64(b, uint64(r.Left))
	b = be.AppendUint64(b, uint64(r.Uploaded))
	b = be.AppendUint32(b, uint32(r.Event))
	b = append(b, r.IP[:]...)
	b = be.AppendUint32(b, r.Key)
	b = be.AppendUint32(b, uint32(r.NumWant))
	b = be.AppendUint16(b, r.Port)
	for u := r.URLData; len(u) > 0; {
		n := min(len(u), 255)
		b = append(b, optionURLData, byte(n))
		b = append(b, u[:n]...)
		u = u[n:]
	}
	if len(r.URLData) > 0 {
		b = append(b, optionEnd)
	}
	return b
}

// AnnounceResponse is the answer to an announce. Peers holds compact
// entries: 6 bytes each for an IPv4 request, 18 for IPv6.
type AnnounceResponse struct {
	TransactionID uint32
	Interval      uint32
	Leechers      uint32
	Seeders       uint32
	Peers         []byte
}

// AppendAnnounceResponse writes an announce response.
func AppendAnnounceResponse(b []byte, r *AnnounceResponse) []byte {
	b = be.AppendUint32(b, uint32(ActionAnnounce))
	b = be.AppendUint32(b, r.TransactionID)
	b = be.AppendUint32(b, r.Interval)
	b = be.AppendUint32(b, r.Leechers)
	b = be.AppendUint32(b, r.Seeders)
	return append(b, r.Peers...)
}

// ParseAnnounceResponse decodes an announce response; entrySize is 6 for a
// request sent over IPv4 and 18 over IPv6. Peers aliases b.
func ParseAnnounceResponse(b []byte, entrySize int, r *AnnounceResponse) error {
	if len(b) < AnnounceResponseSize {
		return fmt.Errorf("%w: announce response of %d bytes", ErrShort, len(b))
	}
	if Action(be.Uint32(b)) != ActionAnnounce {
		return ErrAction
	}
	r.TransactionID = be.Uint32(b[4:])
	r.Interval = be.Uint32(b[8:])
	r.Leechers = be.Uint32(b[12:])
	r.Seeders = be.Uint32(b[16:])
	peers := b[AnnounceResponseSize:]
	r.Peers = peers[:len(peers)/entrySize*entrySize]
	return nil
}

package udpwire

import "fmt"

// ScrapeStats are one torrent's counts in a scrape response.
type ScrapeStats struct {
	Seeders   uint32
	Completed uint32
	Leechers  uint32
}

// ParseScrapeRequest decodes a scrape packet, appending its info hashes to
// hashes.
func ParseScrapeRequest(b []byte, hashes [][20]byte) (Header, [][20]byte, error) {
	h, err := ParseHeader(b)
	if err != nil {
		return h, hashes, err
	}
	if h.Action != ActionScrape {
		return h, hashes, ErrAction
	}
	rest := b[ScrapeRequestSize:]
	if len(rest)%20 != 0 || len(rest) == 0 {
		return h, hashes, fmt.Errorf("%w: %d bytes", ErrScrapeSize, len(rest))
	}
	if len(rest)/20 > MaxScrapeHashes {
		return h, hashes, fmt.Errorf("%w: %d", ErrTooMany, len(rest)/20)
	}
	for i := 0; i < len(rest); i += 20 {
		hashes = append(hashes, [20]byte(rest[i:i+20]))
	}
	return h, hashes, nil
}

// AppendScrapeRequest writes a scrape packet.
func AppendScrapeRequest(b []byte, connectionID uint64, transactionID uint32, hashes [][20]byte) []byte {
	b = be.AppendUint64(b, connectionID)
	b = be.AppendUint32(b, uint32(ActionScrape))
	b = be.AppendUint32(b, transactionID)
	for _, h := range hashes {
		b = append(b, h[:]...)
	}
	return b
}

// AppendScrapeResponse writes a scrape response, the counts in the order of
// the request's info hashes.
func AppendScrapeResponse(b []byte, transactionID uint32, stats []ScrapeStats) []byte {
	b = be.AppendUint32(b, uint32(ActionScrape))
	b = be.AppendUint32(b, transactionID)
	for _, s := range stats {
		b = be.AppendUint32(b, s.Seeders)
		b = be.AppendUint32(b, s.Completed)
		b = be.AppendUint32(b, s.Leechers)
	}
	return b
}

// ParseScrapeResponse decodes a scrape response, appending to stats.
func ParseScrapeResponse(b []byte, stats []ScrapeStats) (uint32, []ScrapeStats, error) {
	if len(b) < ScrapeResponseSize {
		return 0, stats, fmt.Errorf("%w: scrape response of %d bytes", ErrShort, len(b))
	}
	if Action(be.Uint32(b)) != ActionScrape {
		return 0, stats, ErrAction
	}
	tid := be.Uint32(b[4:])
	rest := b[ScrapeResponseSize:]
	for i := 0; i+12 <= len(rest); i += 12 {
		stats = append(stats, ScrapeStats{Seeders: be.Uint32(rest[i:]), Completed: be.Uint32(rest[i+4:]), Leechers: be.Uint32(rest[i+8:])})
	}
	return tid, stats, nil
}

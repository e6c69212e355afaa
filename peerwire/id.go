package peerwire

import "strconv"

// ID is the byte after a message's length prefix that says what the message is.
type ID uint8

// Message IDs of BEP 3.
const (
	IDChoke         ID = 0
	IDUnchoke       ID = 1
	IDInterested    ID = 2
	IDNotInterested ID = 3
	IDHave          ID = 4
	IDBitfield      ID = 5
	IDRequest       ID = 6
	IDPiece         ID = 7
	IDCancel        ID = 8
	IDPort          ID = 9 // BEP 5: the sender's DHT port.
)

// Message IDs of the Fast extension, BEP 6.
const (
	IDSuggest     ID = 13
	IDHaveAll     ID = 14
	IDHaveNone    ID = 15
	IDReject      ID = 16
	IDAllowedFast ID = 17
)

// IDExtended is the one message ID of the extension protocol, BEP 10; the
// payload's first byte says which extended message it is.
const IDExtended ID = 20

var idNames = [...]string{
	IDChoke:         "choke",
	IDUnchoke:       "unchoke",
	IDInterested:    "interested",
	IDNotInterested: "not interested",
	IDHave:          "have",
	IDBitfield:      "bitfield",
	IDRequest:       "request",
	IDPiece:         "piece",
	IDCancel:        "cancel",
	IDPort:          "port",
	IDSuggest:       "suggest",
	IDHaveAll:       "have all",
	IDHaveNone:      "have none",
	IDReject:        "reject request",
	IDAllowedFast:   "allowed fast",
	IDExtended:      "extended",
	IDHashRequest:   "hash request",
	IDHashes:        "hashes",
	IDHashReject:    "hash reject",
}

// String is the message's name as the BEPs write it, or "unknown (N)".
func (id ID) String() string {
	if int(id) < len(idNames) && idNames[id] != "" {
		return idNames[id]
	}
	return "unknown (" + strconv.Itoa(int(id)) + ")"
}

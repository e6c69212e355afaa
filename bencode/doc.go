// Package bencode is the project's own small bencode codec (BEP 3) for the
// hot paths: tracker answers, peer-wire extension messages and the load
// tester's reading of tracker answers. It allocates nothing: the append
// functions write into a caller's buffer, and a Decoder walks a byte slice,
// handing out integers and sub-slices of its input.
//
// It builds no generic tree and has no reflection. Torrent files and other
// cold paths use github.com/jackpal/bencode-go instead; a file that needs
// both imports that one under another name.
//
// Input is read strictly as BEP 3 writes it: integers and string lengths
// without leading zeros, no negative zero, keys that are strings, at most
// MaxDepth lists and dictionaries deep. Sorted, unique dictionary keys are
// checked when the caller asks (Decoder.SortedKeys): peers' extension
// messages are not always that careful.
package bencode

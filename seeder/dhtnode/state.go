package dhtnode

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/anacrolix/dht/v2/krpc"
)

// state is what the state file holds: our node ID, kept so that the nodes
// that know us keep finding us after a restart, and the routing table.
type state struct {
	ID    string      `json:"id"`
	Nodes []stateNode `json:"nodes"`
}

type stateNode struct {
	ID   string `json:"id"`
	Addr string `json:"addr"`
}

// maxStateNodes bounds the nodes read from a state file: a routing table
// of 160 buckets of 8 holds no more.
const maxStateNodes = 160 * 8

// readState reads a state file. A missing file is no error: it gives a
// zero ID and no nodes.
func readState(path string) (krpc.ID, []krpc.NodeInfo, error) {
	var id krpc.ID
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return id, nil, nil
	}
	if err != nil {
		return id, nil, fmt.Errorf("reading dht state: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return id, nil, fmt.Errorf("dht state %s: %w", path, err)
	}
	if err := decodeID(st.ID, &id); err != nil {
		return id, nil, fmt.Errorf("dht state %s: node id: %w", path, err)
	}
	var nodes []krpc.NodeInfo
	for i, n := range st.Nodes {
		if i == maxStateNodes {
			break
		}
		var ni krpc.NodeInfo
		ap, err := netip.ParseAddrPort(n.Addr)
		if err != nil || decodeID(n.ID, &ni.ID) != nil {
			return id, nil, fmt.Errorf("dht state %s: node %d (%q, %q): bad id or address", path, i, n.ID, n.Addr)
		}
		ni.Addr = nodeAddr(ap)
		nodes = append(nodes, ni)
	}
	return id, nodes, nil
}

func decodeID(s string, id *krpc.ID) error {
	b, err := hex.DecodeString(s)
	if err != nil {
		return err
	}
	if len(b) != len(id) {
		return fmt.Errorf("%d bytes, want %d", len(b), len(id))
	}
	copy(id[:], b)
	return nil
}

// writeState replaces the state file, by a rename so that a crash leaves
// the old file or the new one, never half of one.
func writeState(path string, id krpc.ID, nodes []krpc.NodeInfo) error {
	st := state{ID: hex.EncodeToString(id[:]), Nodes: []stateNode{}}
	for _, n := range nodes {
		ip, ok := netip.AddrFromSlice(n.Addr.IP)
		if !ok {
			continue
		}
		st.Nodes = append(st.Nodes, stateNode{
			ID:   hex.EncodeToString(n.ID[:]),
			Addr: netip.AddrPortFrom(ip.Unmap(), uint16(n.Addr.Port)).String(),
		})
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing dht state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing dht state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing dht state: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing dht state: %w", err)
	}
	return nil
}

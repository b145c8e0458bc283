package healbot

/*
#include <stdlib.h>
#include "healbot.h"
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

// Node is one node of a topology, as Topology.Node describes it.
type Node struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"` // service, database, cache, queue, host, pod, load_balancer or external
	Tier     int               `json:"tier"` // 1 (most critical) to 4
	Replicas int               `json:"replicas"`
	Labels   map[string]string `json:"labels"`
	Aliases  []string          `json:"aliases"` // other names telemetry may use for the node
	Shard    int               `json:"shard"`   // the shard (connected part of the graph) it belongs to
}

// BlastRadius says how many nodes depend on a node, transitively, and their
// tier weight.
type BlastRadius struct {
	Nodes        int     // how many nodes depend on the node, transitively
	TierWeighted float64 // the sum of their tier weights (8, 4, 2, 1 for tiers 1 to 4)
}

// call runs f on the topology's handle, holding it open, and turns what f
// returns into an error of operation op. A closed topology is ErrClosed.
func (t *Topology) call(op string, f func(*C.healbot_topology, **C.healbot_error) C.healbot_result) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.ptr == nil {
		return closedError(op)
	}
	var cerr *C.healbot_error
	return takeError(op, f(t.ptr, &cerr), cerr)
}

// onNode is call with node as a C string (a NUL byte inside it is an error
// with CodeInvalidInput).
func (t *Topology) onNode(op, node string,
	f func(*C.healbot_topology, *C.char, **C.healbot_error) C.healbot_result,
) error {
	cnode, err := cString(op, "node", node)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cnode))
	return t.call(op, func(p *C.healbot_topology, cerr **C.healbot_error) C.healbot_result {
		return f(p, cnode, cerr)
	})
}

// decode decodes the JSON buffer a call of operation op writes into v.
func decode(op string, v any, call func(**C.healbot_buffer) error) error {
	var buf *C.healbot_buffer
	if err := call(&buf); err != nil {
		return err
	}
	if err := json.Unmarshal(takeBuffer(buf), v); err != nil {
		return decodeError(op, err)
	}
	return nil
}

// nodeList is a query of node ids about one node.
func (t *Topology) nodeList(op, node string,
	f func(*C.healbot_topology, *C.char, **C.healbot_buffer, **C.healbot_error) C.healbot_result,
) ([]string, error) {
	var ids []string
	err := decode(op, &ids, func(buf **C.healbot_buffer) error {
		return t.onNode(op, node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
			return f(p, cnode, buf, cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// Nodes returns every node id, in the topology's node order.
func (t *Topology) Nodes() ([]string, error) {
	var ids []string
	err := decode("Nodes", &ids, func(buf **C.healbot_buffer) error {
		return t.call("Nodes", func(p *C.healbot_topology, cerr **C.healbot_error) C.healbot_result {
			return C.healbot_topology_nodes_json(p, buf, cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// Contains reports whether node names a node of the topology, by id or
// alias. It is false for a closed topology.
func (t *Topology) Contains(node string) bool {
	cnode, err := cString("Contains", "node", node)
	if err != nil {
		return false
	}
	defer C.free(unsafe.Pointer(cnode))
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.ptr != nil && bool(C.healbot_topology_contains(t.ptr, cnode))
}

// Node describes a node, named by id or alias. An unknown node is an error
// with CodeInvalidInput (errors.Is(err, ErrInvalidInput)).
func (t *Topology) Node(node string) (Node, error) {
	var n Node
	err := decode("Node", &n, func(buf **C.healbot_buffer) error {
		return t.onNode("Node", node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
			return C.healbot_topology_node_json(p, cnode, buf, cerr)
		})
	})
	if err != nil {
		return Node{}, err
	}
	return n, nil
}

// NodeKind is a node's kind: service, database, cache, queue, host, pod,
// load_balancer or external.
func (t *Topology) NodeKind(node string) (string, error) {
	var kind *C.char
	err := t.onNode("NodeKind", node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_topology_node_kind(p, cnode, &kind, cerr)
	})
	if err != nil {
		return "", err
	}
	return goString(kind), nil
}

// NodeTier is a node's tier, 1 (most critical) to 4.
func (t *Topology) NodeTier(node string) (int, error) {
	var tier C.uint8_t
	err := t.onNode("NodeTier", node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_topology_node_tier(p, cnode, &tier, cerr)
	})
	if err != nil {
		return 0, err
	}
	return int(tier), nil
}

// Dependencies returns everything node needs, transitively (depends_on and
// runs_on), without node itself: breadth-first, nearest first.
func (t *Topology) Dependencies(node string) ([]string, error) {
	return t.nodeList("Dependencies", node, func(p *C.healbot_topology, n *C.char, b **C.healbot_buffer, e **C.healbot_error) C.healbot_result {
		return C.healbot_topology_dependencies_json(p, n, b, e)
	})
}

// Dependents returns everything that needs node, transitively, without node
// itself (its blast radius as a list): breadth-first, nearest first.
func (t *Topology) Dependents(node string) ([]string, error) {
	return t.nodeList("Dependents", node, func(p *C.healbot_topology, n *C.char, b **C.healbot_buffer, e **C.healbot_error) C.healbot_result {
		return C.healbot_topology_dependents_json(p, n, b, e)
	})
}

// DirectDependencies returns what node needs directly, in node order.
func (t *Topology) DirectDependencies(node string) ([]string, error) {
	return t.nodeList("DirectDependencies", node, func(p *C.healbot_topology, n *C.char, b **C.healbot_buffer, e **C.healbot_error) C.healbot_result {
		return C.healbot_topology_direct_dependencies_json(p, n, b, e)
	})
}

// DirectDependents returns what needs node directly, in node order.
func (t *Topology) DirectDependents(node string) ([]string, error) {
	return t.nodeList("DirectDependents", node, func(p *C.healbot_topology, n *C.char, b **C.healbot_buffer, e **C.healbot_error) C.healbot_result {
		return C.healbot_topology_direct_dependents_json(p, n, b, e)
	})
}

// BlastRadius says how many nodes depend on node, transitively, and their
// tier weight.
func (t *Topology) BlastRadius(node string) (BlastRadius, error) {
	var r C.healbot_blast_radius
	err := t.onNode("BlastRadius", node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_topology_blast_radius(p, cnode, &r, cerr)
	})
	if err != nil {
		return BlastRadius{}, err
	}
	return BlastRadius{Nodes: int(r.nodes), TierWeighted: float64(r.tier_weighted)}, nil
}

// PathToDependency returns a shortest chain of dependencies from source to
// target, both included ([source] when they are the same node), or nil
// when target is not a dependency of source.
func (t *Topology) PathToDependency(source, target string) ([]string, error) {
	const op = "PathToDependency"
	ctarget, err := cString(op, "target", target)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(ctarget))
	var path []string
	err = decode(op, &path, func(buf **C.healbot_buffer) error {
		return t.onNode(op, source, func(p *C.healbot_topology, csource *C.char, cerr **C.healbot_error) C.healbot_result {
			return C.healbot_topology_path_to_dependency_json(p, csource, ctarget, buf, cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return path, nil
}

// ShardOf returns the shard (connected part of the graph) node belongs to:
// an index into Shards.
func (t *Topology) ShardOf(node string) (int, error) {
	var shard C.size_t
	err := t.onNode("ShardOf", node, func(p *C.healbot_topology, cnode *C.char, cerr **C.healbot_error) C.healbot_result {
		return C.healbot_topology_shard_of(p, cnode, &shard, cerr)
	})
	if err != nil {
		return 0, err
	}
	return int(shard), nil
}

// Shards returns every shard's node ids, indexed by shard number.
func (t *Topology) Shards() ([][]string, error) {
	var shards [][]string
	err := decode("Shards", &shards, func(buf **C.healbot_buffer) error {
		return t.call("Shards", func(p *C.healbot_topology, cerr **C.healbot_error) C.healbot_result {
			return C.healbot_topology_shards_json(p, buf, cerr)
		})
	})
	if err != nil {
		return nil, err
	}
	return shards, nil
}

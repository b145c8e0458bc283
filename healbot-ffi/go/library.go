package healbot

/*
#include <stdlib.h>
#include "healbot.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Format is how a document's text is written.
type Format uint32

// Document formats.
const (
	// FormatAuto picks the format from the name: ".json" is JSON, else YAML.
	FormatAuto Format = C.HEALBOT_FORMAT_AUTO
	// FormatYAML is a YAML stream of one or more documents.
	FormatYAML Format = C.HEALBOT_FORMAT_YAML
	// FormatJSON is one JSON document.
	FormatJSON Format = C.HEALBOT_FORMAT_JSON
)

// Library is a compiled library of signatures and actions. It is immutable
// and safe for concurrent use; engines keep what they need, so it may be
// closed once the engines exist.
type Library struct {
	mu  sync.RWMutex
	ptr *C.healbot_library
}

// Source is one named document text.
type Source struct {
	Name string // names the source in diagnostics; ".json" selects JSON
	Text []byte
}

func newLibrary(p *C.healbot_library) *Library {
	l := &Library{ptr: p}
	liveHandles.Add(1)
	runtime.SetFinalizer(l, (*Library).Close)
	return l
}

// LoadLibrary compiles a library from one text (a YAML stream may hold
// signature, action and overrides documents). The format comes from the
// name. A failure is an *Error carrying every diagnostic found.
func LoadLibrary(name string, text []byte) (*Library, error) {
	return loadLibrary("LoadLibrary", name, text, FormatAuto)
}

// LoadLibraryFormat is LoadLibrary with an explicit format.
func LoadLibraryFormat(name string, text []byte, format Format) (*Library, error) {
	return loadLibrary("LoadLibraryFormat", name, text, format)
}

func loadLibrary(op, name string, text []byte, format Format) (*Library, error) {
	cname, err := cString(op, "source name", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cname))
	var p *C.healbot_library
	var cerr *C.healbot_error
	r := C.healbot_library_new(cname, bytesPtr(text), C.size_t(len(text)), C.uint32_t(format), &p, &cerr)
	runtime.KeepAlive(text)
	if err := takeError(op, r, cerr); err != nil {
		return nil, err
	}
	return newLibrary(p), nil
}

// LoadLibrarySources compiles a library from several sources together
// (signatures, actions and overrides in separate files).
func LoadLibrarySources(sources ...Source) (*Library, error) {
	const op = "LoadLibrarySources"
	for _, s := range sources {
		if err := noNul(op, "source name", s.Name); err != nil {
			return nil, err
		}
	}
	n := len(sources)
	// The arrays live in C memory: Go memory passed to C must hold no Go pointers.
	namesBase := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	textsBase := (**C.uint8_t)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.uint8_t)(nil)))))
	lensBase := (*C.size_t)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof(C.size_t(0)))))
	names, texts, lens := unsafe.Slice(namesBase, n), unsafe.Slice(textsBase, n), unsafe.Slice(lensBase, n)
	defer func() {
		for i := 0; i < n; i++ {
			C.free(unsafe.Pointer(names[i]))
			C.free(unsafe.Pointer(texts[i]))
		}
		C.free(unsafe.Pointer(namesBase))
		C.free(unsafe.Pointer(textsBase))
		C.free(unsafe.Pointer(lensBase))
	}()
	for i, s := range sources {
		names[i] = C.CString(s.Name)
		texts[i] = (*C.uint8_t)(C.CBytes(s.Text))
		lens[i] = C.size_t(len(s.Text))
	}
	var p *C.healbot_library
	var cerr *C.healbot_error
	r := C.healbot_library_new_from_sources(namesBase, textsBase, lensBase, C.size_t(n), &p, &cerr)
	if err := takeError(op, r, cerr); err != nil {
		return nil, err
	}
	return newLibrary(p), nil
}

// Revision is the library's content hash (16 hex digits), stamped on every
// decision and snapshot.
func (l *Library) Revision() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return goString(C.healbot_library_revision(l.ptr))
}

// SignatureCount is the number of signatures.
func (l *Library) SignatureCount() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return int(C.healbot_library_signature_count(l.ptr))
}

// ActionCount is the number of actions.
func (l *Library) ActionCount() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return int(C.healbot_library_action_count(l.ptr))
}

// Close frees the library. It is idempotent; engines are unaffected.
func (l *Library) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ptr != nil {
		C.healbot_library_free(l.ptr)
		liveHandles.Add(-1)
		l.ptr = nil
		runtime.SetFinalizer(l, nil)
	}
	return nil
}

// Topology is a compiled service topology. It is immutable and safe for
// concurrent use; engines keep what they need, so it may be closed once the
// engines exist.
type Topology struct {
	mu  sync.RWMutex
	ptr *C.healbot_topology
}

// LoadTopology compiles a topology from one Topology document. The format
// comes from the name. A failure is an *Error carrying every diagnostic.
func LoadTopology(name string, text []byte) (*Topology, error) {
	return loadTopology("LoadTopology", name, text, FormatAuto)
}

// LoadTopologyFormat is LoadTopology with an explicit format.
func LoadTopologyFormat(name string, text []byte, format Format) (*Topology, error) {
	return loadTopology("LoadTopologyFormat", name, text, format)
}

func loadTopology(op, name string, text []byte, format Format) (*Topology, error) {
	cname, err := cString(op, "source name", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cname))
	var p *C.healbot_topology
	var cerr *C.healbot_error
	r := C.healbot_topology_new(cname, bytesPtr(text), C.size_t(len(text)), C.uint32_t(format), &p, &cerr)
	runtime.KeepAlive(text)
	if err := takeError(op, r, cerr); err != nil {
		return nil, err
	}
	t := &Topology{ptr: p}
	liveHandles.Add(1)
	runtime.SetFinalizer(t, (*Topology).Close)
	return t, nil
}

// NodeCount is the number of nodes.
func (t *Topology) NodeCount() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return int(C.healbot_topology_node_count(t.ptr))
}

// Close frees the topology. It is idempotent; engines are unaffected.
func (t *Topology) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ptr != nil {
		C.healbot_topology_free(t.ptr)
		liveHandles.Add(-1)
		t.ptr = nil
		runtime.SetFinalizer(t, nil)
	}
	return nil
}

//go:build wasip1

package pluginsdk

import (
	"errors"
	"unsafe"

	"github.com/tallyrun/tally/pluginsdk/meta"
)

// The module's side of the ABI (docs/abi.md). Results that point into memory (a describe
// document, an error message) are kept in result until the next call, as the ABI promises.
var (
	pending []byte // the buffer tally_alloc gave out, until a call takes it
	result  []byte
)

//go:wasmexport tally_abi_version_1
func abiVersion1() {}

//go:wasmexport tally_alloc
func tallyAlloc(size uint32) uint32 {
	pending = make([]byte, max(size, 1))[:size]
	return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(pending[:1]))))
}

//go:wasmexport tally_describe
func tallyDescribe() uint64 {
	err := registerError
	if registered != nil {
		m := registered.Metadata()
		m.Progress = uint32(uintptr(unsafe.Pointer(&registered.progress)))
		var data []byte
		if data, err = m.JSON(); err == nil {
			return keep(data)
		}
	}
	return keep(meta.ErrorJSON(err))
}

//go:wasmexport tally_configure
func tallyConfigure(ptr, size uint32) uint64 {
	return call(ptr, size, func(payload []byte) error {
		return registered.Configure(payload, hostWriter(hostTerminal), hostWriter(hostLog))
	})
}

//go:wasmexport tally_events
func tallyEvents(ptr, size uint32) uint64 {
	return call(ptr, size, registered.Deliver)
}

//go:wasmexport tally_results
func tallyResults(ptr, size uint32) uint64 {
	return call(ptr, size, registered.DeliverResults)
}

//go:wasmexport tally_close
func tallyClose() uint64 {
	if registered == nil {
		return status(registerError)
	}
	return status(registered.Close())
}

// call takes the payload the host wrote into the pending buffer and runs fn on it.
func call(ptr, size uint32, fn func([]byte) error) uint64 {
	if registered == nil {
		return status(registerError)
	}
	if pending == nil || uint32(uintptr(unsafe.Pointer(unsafe.SliceData(pending[:1])))) != ptr || int(size) > cap(pending) {
		return status(errors.New("payload not in the buffer tally_alloc returned"))
	}
	payload := pending[:size]
	pending = nil
	return status(fn(payload))
}

// status is a call's result: 0, or an error message's address and length.
func status(err error) uint64 {
	if err == nil {
		return 0
	}
	msg := err.Error()
	if msg == "" {
		msg = "error" // an empty message would read as success
	}
	return keep([]byte(msg))
}

func keep(data []byte) uint64 {
	result = data
	if len(data) == 0 {
		return 0
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(data))))<<32 | uint64(len(data))
}

//go:wasmimport tally terminal
func hostTerminal(ptr unsafe.Pointer, size uint32)

//go:wasmimport tally log
func hostLog(ptr unsafe.Pointer, size uint32)

//go:wasmimport tally sink_put
func hostSinkPut(sink unsafe.Pointer, sinkLen uint32, coll unsafe.Pointer, collLen uint32, key unsafe.Pointer, keyLen uint32, doc unsafe.Pointer, docLen uint32) int32

// putRecord is Sink.Put's way to the host. Only a module that calls Put imports sink_put, so
// one that does not still loads in a tally without sinks.
func putRecord(sink, collection, key string, doc []byte) int32 {
	return hostSinkPut(unsafe.Pointer(unsafe.StringData(sink)), uint32(len(sink)),
		unsafe.Pointer(unsafe.StringData(collection)), uint32(len(collection)),
		unsafe.Pointer(unsafe.StringData(key)), uint32(len(key)),
		unsafe.Pointer(unsafe.SliceData(doc)), uint32(len(doc)))
}

// hostWriter is an io.Writer over one of the host's output functions.
type hostWriter func(ptr unsafe.Pointer, size uint32)

func (w hostWriter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		w(unsafe.Pointer(unsafe.SliceData(p)), uint32(len(p)))
	}
	return len(p), nil
}

//go:build !wasip1

package pluginsdk

// nativePut is where a natively run plugin's records go (SetSinkPut); nil refuses them.
var nativePut func(sink, collection, key string, doc []byte) int32

// SetSinkPut sets where records go when a plugin runs natively (package plugintest, native
// benchmarks): fn gets each record, its document in the wire encoding (valid only during the
// call, as the plugin's memory is for the host's sink_put), and returns sink_put's status
// (docs/abi.md).
func SetSinkPut(fn func(sink, collection, key string, doc []byte) int32) { nativePut = fn }

func putRecord(sink, collection, key string, doc []byte) int32 {
	if nativePut == nil {
		return 1
	}
	return nativePut(sink, collection, key, doc)
}

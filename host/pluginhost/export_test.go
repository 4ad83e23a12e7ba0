package pluginhost

// SharedCache is the compilation cache the package's tests share, for its external tests.
func SharedCache() string { return testCache }

// GoPlugin is goPlugin, for the external tests.
var GoPlugin = goPlugin

//go:build race

package main

// raceEnabled: the race detector slows the HTTP round trips of the big
// end-to-end cases about tenfold; they scale down under it.
const raceEnabled = true

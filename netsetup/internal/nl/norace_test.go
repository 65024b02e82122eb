//go:build !race

package nl

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = false

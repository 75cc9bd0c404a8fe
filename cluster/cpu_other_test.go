//go:build !unix

package cluster_test

import "time"

// processCPU is not measured here: the benchmarks leave out CPU per event.
func processCPU() (time.Duration, bool) { return 0, false }

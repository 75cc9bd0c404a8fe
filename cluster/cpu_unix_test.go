//go:build unix

package cluster_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time this process used so far (user and system,
// all threads: the nodes, their NATS servers and the fakes), from
// getrusage.
func processCPU() (time.Duration, bool) {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0, false
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano()), true
}

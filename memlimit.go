package main

import (
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when neither
// GOMEMLIMIT nor a container limit says otherwise: a community bot idles
// at 40–60 MB and peaks near 150 MB under a launch-day burst, so 256 MiB
// makes the collector work harder before the heap grows past what a small
// VM has, without making it thrash at the usual load.
const defaultMemoryLimit = 256 << 20

// cgroupMemoryMax is where cgroup v2 (Docker, systemd's MemoryMax=) says
// how much memory the process may use.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// memoryLimit decides the soft memory limit: GOMEMLIMIT when set (the
// runtime has applied it already: 0, nothing to do); else 80% of the
// cgroup's limit, leaving room for Badger's memory-mapped tables and
// the stacks outside the heap; else defaultMemoryLimit.
func memoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (limit int64, source string) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, "GOMEMLIMIT"
	}
	if b, err := readFile(cgroupMemoryMax); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n / 10 * 8, cgroupMemoryMax
		}
	}
	return defaultMemoryLimit, "default"
}

// applyMemoryLimit sets the soft memory limit for `einsatz run`.
func applyMemoryLimit(log *slog.Logger) {
	limit, source := memoryLimit(os.Getenv, os.ReadFile)
	if limit == 0 {
		log.Info("memory limit from GOMEMLIMIT", "limit_bytes", debug.SetMemoryLimit(-1))
		return
	}
	debug.SetMemoryLimit(limit)
	log.Info("memory limit set (override with GOMEMLIMIT)", "limit_mib", limit>>20, "from", source)
}

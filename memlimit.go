package main

import (
	"log/slog"
	"os"
	"path/filepath"
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

// cgroupRoot is where cgroup v2 is mounted; the process's own group is
// named in /proc/self/cgroup ("0::/system.slice/einsatz.service"; "0::/"
// in a container with its own cgroup namespace).
const (
	cgroupRoot = "/sys/fs/cgroup"
	procCgroup = "/proc/self/cgroup"
)

// memoryLimit decides the soft memory limit: GOMEMLIMIT when set (the
// runtime has applied it already: 0, nothing to do); else 80% of the
// cgroup's memory.max (Docker's --memory, systemd's MemoryMax=), leaving
// room for Badger's memory-mapped tables and the stacks outside the heap;
// else defaultMemoryLimit.
func memoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (limit int64, source string) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, "GOMEMLIMIT"
	}
	group := "/"
	if b, err := readFile(procCgroup); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if p, ok := strings.CutPrefix(line, "0::"); ok && strings.HasPrefix(p, "/") {
				group = strings.TrimSpace(p)
			}
		}
	}
	path := filepath.Join(cgroupRoot, group, "memory.max")
	if b, err := readFile(path); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n / 10 * 8, path
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

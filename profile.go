package main

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles writes a CPU profile to $EINSATZ_CPUPROFILE and a heap
// profile (at exit) to $EINSATZ_MEMPROFILE when they are set, for
// `go run ./cmd/loadtest -cpuprofile … -memprofile …`. The returned stop
// ends them; it is a no-op when neither is set.
func startProfiles(log *slog.Logger) (stop func()) {
	cpuPath, memPath := os.Getenv("EINSATZ_CPUPROFILE"), os.Getenv("EINSATZ_MEMPROFILE")
	var cpu *os.File
	if cpuPath != "" {
		f, err := os.Create(cpuPath)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Warn("cpu profile not written", "path", cpuPath, "err", err)
		} else {
			cpu = f
		}
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			_ = cpu.Close()
		}
		if memPath == "" {
			return
		}
		f, err := os.Create(memPath)
		if err == nil {
			runtime.GC()
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			log.Warn("heap profile not written", "path", memPath, "err", err)
		}
	}
}

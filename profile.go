package main

import (
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// startProfiles writes a CPU profile to $EINSATZ_CPUPROFILE and an
// allocation profile (at exit) to $EINSATZ_MEMPROFILE when they are set,
// for `go run ./cmd/loadtest -cpuprofile … -memprofile …`; with the latter
// also the heap at its largest (checked every second) to
// $EINSATZ_MEMPROFILE.peak. The returned stop ends them; it is a no-op when
// neither is set.
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
	done := make(chan struct{})
	var watched sync.WaitGroup
	if memPath != "" {
		watched.Add(1)
		go func() {
			defer watched.Done()
			watchPeakHeap(memPath+".peak", done, log)
		}()
	}
	return func() {
		close(done)
		watched.Wait()
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

// watchPeakHeap writes the heap profile to path each time the heap in use
// reaches a new high, until done closes. A diagnostic only: profiling is
// off unless EINSATZ_MEMPROFILE is set, and it needs no injectable clock.
func watchPeakHeap(path string, done <-chan struct{}, log *slog.Logger) {
	var peak uint64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse <= peak+peak/20 {
			continue
		}
		peak = m.HeapInuse
		f, err := os.Create(path)
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			log.Warn("peak heap profile not written", "path", path, "err", err)
			return
		}
	}
}

package main

import (
	"errors"
	"strings"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	noFile := func(string) ([]byte, error) { return nil, errors.New("no cgroup") }
	// files fakes /proc/self/cgroup and the group's memory.max.
	files := func(cgroup, max string) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			switch {
			case path == procCgroup && cgroup != "":
				return []byte(cgroup), nil
			case path != procCgroup && max != "":
				want := "/sys/fs/cgroup/system.slice/einsatz.service/memory.max"
				if !strings.Contains(cgroup, "einsatz.service") {
					want = "/sys/fs/cgroup/memory.max"
				}
				if path != want {
					t.Fatalf("read %s, want %s", path, want)
				}
				return []byte(max), nil
			}
			return nil, errors.New("no such file")
		}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "GOMEMLIMIT" {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name       string
		env        string
		read       func(string) ([]byte, error)
		wantLimit  int64
		wantSource string
	}{
		{"GOMEMLIMIT wins over a cgroup", "300MiB", files("0::/\n", "1073741824\n"), 0, "GOMEMLIMIT"},
		{"80% of a container's limit", "", files("0::/\n", "1073741824\n"), 858993456, "/sys/fs/cgroup/memory.max"},
		{"80% of a systemd unit's MemoryMax", "", files("0::/system.slice/einsatz.service\n", "536870912\n"), 429496728,
			"/sys/fs/cgroup/system.slice/einsatz.service/memory.max"},
		{"no cgroup limit (max)", "", files("0::/\n", "max\n"), defaultMemoryLimit, "default"},
		{"no cgroup v2", "", noFile, defaultMemoryLimit, "default"},
		{"garbage in memory.max", "", files("0::/\n", "lots"), defaultMemoryLimit, "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, source := memoryLimit(env(tc.env), tc.read)
			if limit != tc.wantLimit || source != tc.wantSource {
				t.Fatalf("memoryLimit = %d from %s, want %d from %s", limit, source, tc.wantLimit, tc.wantSource)
			}
		})
	}
}

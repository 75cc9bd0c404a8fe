package main

import (
	"errors"
	"testing"
)

func TestMemoryLimit(t *testing.T) {
	noFile := func(string) ([]byte, error) { return nil, errors.New("no cgroup") }
	file := func(s string) func(string) ([]byte, error) {
		return func(path string) ([]byte, error) {
			if path != cgroupMemoryMax {
				t.Fatalf("read %s", path)
			}
			return []byte(s), nil
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
		{"GOMEMLIMIT wins over a cgroup", "300MiB", file("1073741824\n"), 0, "GOMEMLIMIT"},
		{"80% of a container's limit", "", file("1073741824\n"), 858993456, cgroupMemoryMax},
		{"no cgroup limit (max)", "", file("max\n"), defaultMemoryLimit, "default"},
		{"no cgroup file", "", noFile, defaultMemoryLimit, "default"},
		{"garbage in the cgroup file", "", file("lots"), defaultMemoryLimit, "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limit, source := memoryLimit(env(tc.env), tc.read)
			if limit != tc.wantLimit || source != tc.wantSource {
				t.Fatalf("memoryLimit = %d from %s, want %d from %s", limit, source, tc.wantLimit, tc.wantSource)
			}
		})
	}
}

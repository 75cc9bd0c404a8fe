package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// THIRD_PARTY_NOTICES names every module the einsatz binary links, with
// its version and licence, and is what the generator writes now: a module
// added, bumped or dropped in go.mod fails here until the file is
// regenerated.
func TestNoticesListEveryLinkedModule(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	have, err := os.ReadFile("../../THIRD_PARTY_NOTICES")
	if err != nil {
		t.Fatal(err)
	}
	mods, err := linked("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 10 {
		t.Fatalf("go list found only %d modules", len(mods))
	}
	for _, m := range mods {
		if !bytes.Contains(have, []byte("\n- "+m.Path+" "+m.Version+": ")) {
			t.Errorf("THIRD_PARTY_NOTICES does not list %s %s", m.Path, m.Version)
		}
	}
	want, err := generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		t.Error("THIRD_PARTY_NOTICES is out of date: run go run ./cmd/notices")
	}
}

func TestClassifyAndCopyrights(t *testing.T) {
	for _, tc := range []struct {
		name, text, license string
		copyrights          []string
	}{
		{"MIT", "MIT License\n\nCopyright (c) 2014 Jane Doe\n\nPermission is hereby granted, free of charge, to any person\nThe above copyright notice and this permission notice shall be included", "MIT", []string{"Copyright (c) 2014 Jane Doe"}},
		{"BSD-3", "Copyright 2009 The Go Authors.\n\nRedistribution and use in source and binary forms, with or without\n   * Neither the name of Google LLC nor the names of its\ncontributors", "BSD-3-Clause", []string{"Copyright 2009 The Go Authors."}},
		{"BSD-2", "Copyright (c) 2015, Emir Pasic\nRedistribution and use in source and binary forms, with or without modification", "BSD-2-Clause", []string{"Copyright (c) 2015, Emir Pasic"}},
		{"Apache template", "Apache License\nVersion 2.0, January 2004\n   Copyright [yyyy] [name of copyright owner]\n", "Apache-2.0", nil},
		{"ISC", "Copyright (c) 2020 A\n\nPermission to use, copy, modify, and/or distribute this software for any purpose with or without fee", "ISC", []string{"Copyright (c) 2020 A"}},
		{"a NOTICE file", "Prometheus instrumentation library for Go applications\nCopyright 2012-2015 The Prometheus Authors\n", "", []string{"Copyright 2012-2015 The Prometheus Authors"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.text); got != tc.license {
				t.Errorf("classify = %q, want %q", got, tc.license)
			}
			if got := copyrights(tc.text); strings.Join(got, "|") != strings.Join(tc.copyrights, "|") {
				t.Errorf("copyrights = %q, want %q", got, tc.copyrights)
			}
		})
	}
}

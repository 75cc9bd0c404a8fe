// Command notices writes THIRD_PARTY_NOTICES: every module the einsatz
// binary links on any release platform (go list -deps over the main
// package for each GOOS/GOARCH in targets), with its version,
// its licence and the copyright lines of its licence files, followed by
// the licence texts, read from the module cache. Run it from the
// repository root after changing go.mod:
//
//	go run ./cmd/notices            # writes THIRD_PARTY_NOTICES
//	go run ./cmd/notices -check     # exits 1 when the file is out of date
package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

func main() {
	out := flag.String("out", "THIRD_PARTY_NOTICES", "the file to write")
	check := flag.Bool("check", false, "only check that the file is up to date")
	flag.Parse()
	text, err := generate(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
	if *check {
		have, err := os.ReadFile(*out)
		if err != nil || !bytes.Equal(have, text) {
			fmt.Fprintf(os.Stderr, "notices: %s is out of date: run go run ./cmd/notices\n", *out)
			os.Exit(1)
		}
		return
	}
	if err := os.WriteFile(*out, text, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "notices:", err)
		os.Exit(1)
	}
}

// module is one dependency the binary links.
type module struct {
	Path, Version, Dir string
	Licenses           []string // SPDX identifiers of its licence files (some modules have parts under different licences)
	Copyrights         []string
	Files              []licenseFile
}

type licenseFile struct {
	Name, Text string
}

// targets are the platforms a release binary is built for (static,
// CGO_ENABLED=0). Some modules are linked on one platform only (cobra's
// mousetrap on Windows, for one), so the notices cover the union.
var targets = []struct{ goos, goarch string }{
	{"linux", "amd64"}, {"linux", "arm64"},
	{"darwin", "amd64"}, {"darwin", "arm64"},
	{"windows", "amd64"}, {"windows", "arm64"},
	{"freebsd", "amd64"},
}

// linked lists the modules whose packages the main package in dir
// imports, directly or not, on any of the release targets (the binary's
// build list less the modules only tests use).
func linked(dir string) ([]module, error) {
	seen := map[string]bool{}
	var mods []module
	for _, t := range targets {
		var err error
		if mods, err = linkedOn(dir, t.goos, t.goarch, seen, mods); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(mods, func(a, b module) int { return strings.Compare(a.Path, b.Path) })
	return mods, nil
}

// linkedOn adds to mods the modules the main package links on one
// platform that are not yet in seen.
func linkedOn(dir, goos, goarch string, seen map[string]bool, mods []module) ([]module, error) {
	cmd := exec.Command("go", "list", "-deps", "-f",
		`{{with .Module}}{{if not .Main}}{{.Path}}{{"\t"}}{{.Version}}{{"\t"}}{{.Dir}}{{with .Replace}}{{"\t"}}{{.Path}}{{"\t"}}{{.Version}}{{"\t"}}{{.Dir}}{{end}}{{end}}{{end}}`, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list for %s/%s: %w: %s", goos, goarch, err, stderr.String())
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		m := module{Path: f[0], Version: f[1], Dir: f[2]}
		if len(f) == 6 { // replaced: the replacement's files are what is linked
			m.Version, m.Dir = f[4], f[5]
			if m.Version == "" {
				m.Version = "(replaced by " + f[3] + ")"
			}
		}
		mods = append(mods, m)
	}
	return mods, nil
}

var licenseName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|apache-license|unlicense)`)

// readLicenses fills in a module's licence files, licences and copyright
// lines.
func (m *module) readLicenses() error {
	entries, err := os.ReadDir(m.Dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || !licenseName.MatchString(e.Name()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		m.Files = append(m.Files, licenseFile{Name: e.Name(), Text: text})
		if id := classify(text); id != "" && !slices.Contains(m.Licenses, id) {
			m.Licenses = append(m.Licenses, id)
		}
		for _, c := range copyrights(text) {
			if !slices.Contains(m.Copyrights, c) {
				m.Copyrights = append(m.Copyrights, c)
			}
		}
	}
	if len(m.Files) == 0 {
		return fmt.Errorf("%s %s: no licence file in %s", m.Path, m.Version, m.Dir)
	}
	if len(m.Copyrights) == 0 {
		// Apache-licensed modules often name their holders only in the
		// files' headers.
		for _, e := range entries {
			if len(m.Copyrights) >= 3 {
				break
			}
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(m.Dir, e.Name()))
			if err != nil {
				return err
			}
			for _, c := range copyrights(header(string(b))) {
				if c += " (from its source files)"; !slices.Contains(m.Copyrights, c) {
					m.Copyrights = append(m.Copyrights, c)
				}
			}
		}
	}
	if len(m.Licenses) == 0 {
		return fmt.Errorf("%s %s: licence not recognised (files %v): add it to classify", m.Path, m.Version, m.fileNames())
	}
	return nil
}

func (m *module) fileNames() []string {
	var names []string
	for _, f := range m.Files {
		names = append(names, f.Name)
	}
	return names
}

// classify names a licence text by its SPDX identifier, or "" when it is
// none it knows (a NOTICE file, say).
func classify(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case strings.Contains(t, "Apache License") && strings.Contains(t, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "Mozilla Public License") && strings.Contains(t, "2.0"):
		return "MPL-2.0"
	case strings.Contains(t, "Permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "Redistribution and use in source and binary forms"):
		if strings.Contains(t, "Neither the name") || strings.Contains(t, "names of its contributors") || strings.Contains(t, "name of the copyright holder") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	case strings.Contains(t, "Permission to use, copy, modify, and/or distribute this software for any purpose"),
		strings.Contains(t, "Permission to use, copy, modify, and distribute this software for any purpose"):
		return "ISC"
	}
	return ""
}

var (
	copyrightLine = regexp.MustCompile(`(?i)^\s*(copyright\b|\(c\)\s*\d|©)`)
	// boilerplate mentions copyright without naming a holder: the
	// licences' own sentences and the Apache appendix's template.
	boilerplate = regexp.MustCompile(`(?i)copyright (notice|holder|owner|license|and license|statement)|\[yyyy\]|\{yyyy\}|\[name of|copyright \(c\) <year>|copyrights? in`)
)

// copyrights returns the lines of a licence text that name a holder.
func copyrights(text string) []string {
	var out []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if copyrightLine.MatchString(line) && !boilerplate.MatchString(line) && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// commentMark is the start of a comment line in a Go file's header.
var commentMark = regexp.MustCompile(`^\s*(//|/\*|\*)\s*(SPDX-FileCopyrightText:\s*)?`)

// header returns the comment lines before a Go file's package clause,
// without their comment marks.
func header(src string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(src, "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		b.WriteString(commentMark.ReplaceAllString(line, ""))
		b.WriteByte('\n')
	}
	return b.String()
}

// generate builds the notices for the main package in dir.
func generate(dir string) ([]byte, error) {
	mods, err := linked(dir)
	if err != nil {
		return nil, err
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("go env GOROOT: %w", err)
	}
	std := module{Path: "Go standard library and runtime", Version: "(the Go toolchain that built the binary)", Dir: strings.TrimSpace(string(goroot))}
	all := append([]module{std}, mods...)
	var errs []error
	for i := range all {
		if err := all[i].readLicenses(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `THIRD-PARTY NOTICES

Einsatz (github.com/einsatz/einsatz) is licensed under the MIT licence (see
LICENSE). Its binary links the Go standard library and the %d modules below
(the union over the release platforms: some are linked on one platform only).
Each is listed with its version, its licence and the copyright lines of its
licence files; the licence texts follow.

This file is generated by "go run ./cmd/notices" from the module cache: do
not edit it by hand; regenerate it after changing go.mod.

`, len(mods))
	for _, m := range all {
		fmt.Fprintf(&b, "- %s %s: %s\n", m.Path, m.Version, strings.Join(m.Licenses, " and "))
	}
	shown := map[[32]byte]string{} // licence texts already printed, by their normalised text
	for _, m := range all {
		fmt.Fprintf(&b, "\n%s\n%s %s\nLicence: %s\n", strings.Repeat("=", 78), m.Path, m.Version, strings.Join(m.Licenses, " and "))
		if len(m.Copyrights) == 0 {
			b.WriteString("Copyright: no copyright line in its licence files (see the module's source files)\n")
		}
		for _, c := range m.Copyrights {
			fmt.Fprintf(&b, "%s\n", c)
		}
		for _, f := range m.Files {
			sum := sha256.Sum256([]byte(strings.Join(strings.Fields(f.Text), " ")))
			if first, ok := shown[sum]; ok {
				fmt.Fprintf(&b, "\n--- %s: the same text as %s above\n", f.Name, first)
				continue
			}
			shown[sum] = m.Path + " " + f.Name
			fmt.Fprintf(&b, "\n--- %s\n\n%s\n", f.Name, strings.TrimRight(f.Text, "\n "))
		}
	}
	return b.Bytes(), nil
}

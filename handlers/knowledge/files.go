package knowledge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// DirFS is a knowledge folder on disk. Every open goes through os.Root, so
// no path, not even a symlink's target, leads out of dir; and it is an
// fs.ReadLinkFS, so callers can see a symlink for what it is (readFile
// skips them all). Unlike os.DirFS it keeps no descriptor open between
// calls: folders live as long as the process, and an operator may replace
// the directory.
func DirFS(dir string) fs.FS { return dirFS(dir) }

type dirFS string

func (d dirFS) root(op, name string) (*os.Root, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return os.OpenRoot(string(d))
}

func (d dirFS) Open(name string) (fs.File, error) {
	r, err := d.root("open", name)
	if err != nil {
		return nil, err
	}
	defer r.Close() // the file stays open on its own descriptor
	return r.Open(name)
}

func (d dirFS) Lstat(name string) (fs.FileInfo, error) {
	r, err := d.root("lstat", name)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lstat(name)
}

func (d dirFS) ReadLink(name string) (string, error) {
	r, err := d.root("readlink", name)
	if err != nil {
		return "", err
	}
	defer r.Close()
	return r.Readlink(name)
}

// errNotRegular marks a path that is a symlink, device, pipe or directory
// where a knowledge file was expected: skipped, never read.
var errNotRegular = errors.New("not a regular file (symlinks are not followed)")

// readFile reads name from fsys only if it is a regular file. The check is
// made on the path itself (Lstat) and again on what was opened, so a file
// swapped for a symlink in between is not read either; with DirFS the open
// cannot leave the folder in any case.
func readFile(fsys fs.FS, name string) ([]byte, error) {
	info, err := fs.Lstat(fsys, name)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	opened, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Sys is nil for embedded files, which cannot change under us anyway.
	if !opened.Mode().IsRegular() || (info.Sys() != nil && !os.SameFile(info, opened)) {
		return nil, fmt.Errorf("%s: %w", name, errNotRegular)
	}
	return io.ReadAll(f)
}

package cli_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/adapters/cli"
	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/storage"
)

// einsatz runs the command line with args and returns what it printed.
func einsatz(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := cli.NewRoot(cli.App{Version: "test"}, strings.NewReader(""), &out, &errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// newDatabase makes a database at dir holding one message, or none.
func newDatabase(t *testing.T, dir string, withData bool) {
	t.Helper()
	s, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	if withData {
		thread := bot.ThreadRef{Platform: "web", ChannelID: "c", ThreadID: "t"}
		if _, err := s.Accept(context.Background(), "e1", time.Hour, thread,
			&bot.Turn{Role: bot.RoleUser, UserID: "u", Text: "the message to keep", Time: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// holdsMessage restores backup and says whether the message is in it.
func holdsMessage(t *testing.T, backup string) bool {
	t.Helper()
	f, err := os.Open(backup)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := filepath.Join(t.TempDir(), "restored")
	if err := storage.Restore(dir, f, storage.Options{}); err != nil {
		t.Fatal(err)
	}
	s, err := storage.Open(storage.Options{Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	found := false
	_ = s.Dump(context.Background(), func(_, v []byte) error {
		found = found || bytes.Contains(v, []byte("the message to keep"))
		return nil
	})
	return found
}

// Every command finds the database the same way: --data, else
// EINSATZ_DATA, else storage.path of the config file, else ./data. And
// backup never writes a backup of a database it did not find: run from
// another folder, it once ignored EINSATZ_DATA, made an empty ./data and
// wrote a 36-byte backup of it with exit 0.
func TestBackupFindsTheDatabase(t *testing.T) {
	data := filepath.Join(t.TempDir(), "db")
	newDatabase(t, data, true)
	fresh := filepath.Join(t.TempDir(), "fresh")
	newDatabase(t, fresh, false)
	work := t.TempDir()
	t.Chdir(work)
	cfgFile := filepath.Join(t.TempDir(), "einsatz.yaml")
	if err := os.WriteFile(cfgFile, []byte("storage:\n  path: "+data+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		env     string // EINSATZ_DATA
		args    []string
		wantErr string // "" for a backup holding the message
	}{
		{"EINSATZ_DATA without a config file", data, nil, ""},
		{"--data wins over EINSATZ_DATA", filepath.Join(work, "elsewhere"), []string{"--data", data}, ""},
		{"storage.path of the config file", "", []string{"--config", cfgFile}, ""},
		{"EINSATZ_DATA wins over the config file", fresh, []string{"--config", cfgFile}, "holds no data"},
		{"no database anywhere", "", nil, "no einsatz database"},
		{"a directory that is not a database", work, nil, "no einsatz database"},
		{"a new, empty database", fresh, nil, "holds no data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("EINSATZ_DATA", tc.env)
			file := filepath.Join(t.TempDir(), "b.bak")
			_, stderr, err := einsatz(t, append(append([]string{"backup"}, tc.args...), file)...)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("backup: %v (stderr %s)", err, stderr)
				}
				if !holdsMessage(t, file) {
					t.Fatal("the backup does not hold the database's message")
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("backup = %v, want an error saying %q", err, tc.wantErr)
				}
				if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("a backup file was left: %v", err)
				}
			}
			if _, err := os.Stat(filepath.Join(work, "data")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("backup created ./data in the working directory")
			}
		})
	}
}

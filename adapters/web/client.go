package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// CredentialFileName is where a running server keeps its local admin
// credential, inside the data directory.
const CredentialFileName = "admin.json"

// Client is the CLI's way into a running server's admin API. Badger lets
// one process open the database, so while `einsatz run` is up, commands
// that read or change data go through it.
type Client struct {
	URL   string
	Token string
	HTTP  *http.Client
}

// ErrNotRunning means no server answers for this data directory.
var ErrNotRunning = errors.New("web: no running einsatz server for this data directory")

// Running returns a client for the server that owns dataDir, or
// ErrNotRunning when none answers (a stale credential file is ignored).
func Running(ctx context.Context, dataDir string) (*Client, error) {
	data, err := os.ReadFile(filepath.Join(dataDir, CredentialFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotRunning
	}
	if err != nil {
		return nil, fmt.Errorf("web: read local admin credential: %w", err)
	}
	var cred Credential
	if err := json.Unmarshal(data, &cred); err != nil {
		return nil, fmt.Errorf("web: local admin credential %s is damaged: %w", filepath.Join(dataDir, CredentialFileName), err)
	}
	c := &Client{URL: cred.URL, Token: cred.Token, HTTP: &http.Client{Timeout: 0}}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var who map[string]string
	if err := c.GetJSON(pingCtx, "/api/admin/whoami", &who); err != nil {
		return nil, ErrNotRunning
	}
	return c, nil
}

// Get calls the admin API and returns the response for the caller to read.
func (c *Client) Get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

// DoJSON calls the admin API with an optional JSON body and decodes the
// JSON answer into out (when not nil).
func (c *Client) DoJSON(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(data)
	}
	resp, err := c.do(ctx, method, path, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("admin API %s: %w", path, err)
	}
	return nil
}

func (c *Client) do(ctx context.Context, method, path string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, body)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin API %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		return nil, fmt.Errorf("admin API %s: %s: %s", path, resp.Status, body)
	}
	return resp, nil
}

// GetJSON calls the admin API and decodes its JSON answer into v.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	return c.DoJSON(ctx, http.MethodGet, path, nil, v)
}

// Backup streams a backup of the running server's database to w.
func (c *Client) Backup(ctx context.Context, w io.Writer) error {
	resp, err := c.Get(ctx, "/api/admin/backup")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if status := resp.Trailer.Get(BackupStatusTrailer); status != "ok" {
		return fmt.Errorf("backup incomplete: server said %q", status)
	}
	return nil
}

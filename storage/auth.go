package storage

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// Session is a staff member logged in to the dashboard. Only the hash of
// its cookie value is a key; the cookie itself is never stored.
type Session struct {
	Name    string    `json:"name"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
}

// LoginCode is a one-time dashboard login for the first start, when no
// staff account is configured.
type LoginCode struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// ErrNotFound is returned for a session or login code that does not exist,
// has expired or was used already.
var ErrNotFound = errors.New("storage: not found")

// AddLoginCode keeps the hash of a one-time login code for ttl.
func (s *Store) AddLoginCode(ctx context.Context, hash string, code LoginCode, ttl time.Duration) error {
	v, err := json.Marshal(code)
	if err != nil {
		return fmt.Errorf("storage: add login code: %w", err)
	}
	if err := s.commit(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry([]byte(prefixLogin+hash), v).WithTTL(ttl))
	}); err != nil {
		return fmt.Errorf("storage: add login code: %w", err)
	}
	return nil
}

// RedeemLoginCode exchanges a login code for a session in one write: the
// code is gone afterwards, so a login link works exactly once. It returns
// ErrNotFound for an unknown, expired or used code.
func (s *Store) RedeemLoginCode(ctx context.Context, codeHash, sessionHash string, created time.Time, ttl time.Duration) (Session, error) {
	var sess Session
	err := s.commit(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(prefixLogin + codeHash))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var code LoginCode
		if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &code) }); err != nil {
			return err
		}
		sess = Session{Name: code.Name, Role: code.Role, Created: created}
		v, err := json.Marshal(sess)
		if err != nil {
			return err
		}
		if err := txn.Delete([]byte(prefixLogin + codeHash)); err != nil {
			return err
		}
		return txn.SetEntry(badger.NewEntry([]byte(prefixSess+sessionHash), v).WithTTL(ttl))
	})
	if err != nil {
		return Session{}, fmt.Errorf("storage: redeem login code: %w", err)
	}
	return sess, nil
}

// AddSession stores a session under the hash of its cookie for ttl.
func (s *Store) AddSession(ctx context.Context, hash string, sess Session, ttl time.Duration) error {
	v, err := json.Marshal(sess)
	if err != nil {
		return fmt.Errorf("storage: add session: %w", err)
	}
	if err := s.commit(ctx, func(txn *badger.Txn) error {
		return txn.SetEntry(badger.NewEntry([]byte(prefixSess+hash), v).WithTTL(ttl))
	}); err != nil {
		return fmt.Errorf("storage: add session: %w", err)
	}
	return nil
}

// Session returns the session stored under a cookie hash, or ErrNotFound.
func (s *Store) Session(_ context.Context, hash string) (Session, error) {
	var sess Session
	err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte(prefixSess + hash))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &sess) })
	})
	if err != nil {
		return Session{}, fmt.Errorf("storage: session: %w", err)
	}
	return sess, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if err := s.commit(ctx, func(txn *badger.Txn) error { return txn.Delete([]byte(prefixSess + hash)) }); err != nil {
		return fmt.Errorf("storage: delete session: %w", err)
	}
	return nil
}

// AddAudit records a staff action.
func (s *Store) AddAudit(ctx context.Context, e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("storage: audit: %w", err)
	}
	if err := s.commit(ctx, func(txn *badger.Txn) error {
		// Counted from the entry's own time; one past its retention is not stored.
		if ent := expiring([]byte(prefixAudit+timeSeq(e.Time, &s.seq)), v, e.Time, s.opts.AuditTTL); ent != nil {
			return txn.SetEntry(ent)
		}
		return nil
	}); err != nil {
		return fmt.Errorf("storage: audit: %w", err)
	}
	return nil
}

// Dump calls fn for every live key and value, in key order: for tests and
// the privacy export that must see everything.
func (s *Store) Dump(ctx context.Context, fn func(key, value []byte) error) error {
	return s.scan(ctx, "", fn)
}

// Secret returns a random 32-byte key stored under name, made on first use
// (the salt of pseudonyms, say). It is part of backups, so pseudonyms stay
// stable across a restore.
func (s *Store) Secret(ctx context.Context, name string) ([]byte, error) {
	key := []byte(prefixMeta + "secret/" + name)
	var secret []byte
	err := s.commit(ctx, func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if err == nil {
			secret, err = item.ValueCopy(nil)
			return err
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		secret = make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return err
		}
		return txn.Set(key, secret)
	})
	if err != nil {
		return nil, fmt.Errorf("storage: secret %s: %w", name, err)
	}
	return secret, nil
}

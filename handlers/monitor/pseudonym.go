package monitor

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Pseudonymizer is an Options.Pseudonymize keyed by salt (a secret kept in
// storage): the same person gets the same pseudonym on every row, and
// nobody without the salt can tell who it is.
func Pseudonymizer(salt []byte) func(platform, user string) string {
	return func(platform, user string) string {
		m := hmac.New(sha256.New, salt)
		m.Write([]byte(platform + "\x00" + user))
		return "p-" + hex.EncodeToString(m.Sum(nil)[:12])
	}
}

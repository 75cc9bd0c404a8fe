package web

import (
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/time/rate"
)

// Failed logins are throttled per client IP and per account: a few wrong
// guesses in a row, then one more a minute. Only failures spend from the
// bucket, so staff who type their password right are never slowed down.
const (
	loginFailBurst  = 5
	loginFailRefill = time.Minute
	maxLoginBuckets = 10000
)

// loginGate holds the failure buckets; the Server's mu guards it.
type loginGate struct {
	byIP      map[string]*rate.Limiter
	byAccount map[string]*rate.Limiter
}

func newLimiter() *rate.Limiter { return rate.NewLimiter(rate.Every(loginFailRefill), loginFailBurst) }

func bucket(m map[string]*rate.Limiter, key string) *rate.Limiter {
	l, ok := m[key]
	if !ok {
		if len(m) >= maxLoginBuckets {
			// Forget the clients that have nothing left to pay back first.
			for k, old := range m {
				if old.Tokens() >= loginFailBurst {
					delete(m, k)
				}
			}
			for k := range m {
				if len(m) < maxLoginBuckets {
					break
				}
				delete(m, k)
			}
		}
		l = newLimiter()
		m[key] = l
	}
	return l
}

// loginThrottled tells whether the IP or the account has used up its
// failed attempts. account is "" for a name that has no account.
func (s *Server) loginThrottled(ip, account string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if bucket(s.gate.byIP, ip).Tokens() < 1 {
		return true
	}
	return account != "" && bucket(s.gate.byAccount, account).Tokens() < 1
}

// loginFailed spends one attempt of the IP and of the account.
func (s *Server) loginFailed(ip, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bucket(s.gate.byIP, ip).Allow()
	if account != "" {
		bucket(s.gate.byAccount, account).Allow()
	}
}

// checkSecret tells whether secret logs in to account a (nil: no account
// by that name). Every call does exactly one bcrypt comparison, against a
// dummy hash when the account has no password hash or does not exist, so
// the answer's timing does not tell which names have accounts.
func (s *Server) checkSecret(a *Account, secret string) bool {
	hash := s.dummyHash()
	if a != nil && a.PasswordHash != "" {
		hash = []byte(a.PasswordHash)
	}
	hashOK := s.compareHash(hash, []byte(secret)) == nil
	if a == nil {
		return false
	}
	if a.PasswordHash != "" {
		return hashOK
	}
	return a.Token != "" && equal(secret, a.Token)
}

// dummyHashFor makes the stand-in hash with the cost of the configured
// ones, so a comparison against it takes as long as a real one.
func dummyHashFor(accounts []Account) []byte {
	cost := bcrypt.DefaultCost
	for _, a := range accounts {
		if c, err := bcrypt.Cost([]byte(a.PasswordHash)); err == nil {
			cost = c
			break
		}
	}
	h, err := bcrypt.GenerateFromPassword(randomBytes(16), cost)
	if err != nil {
		panic("web: dummy bcrypt hash: " + err.Error()) // only fails for a bad cost, which Cost just returned
	}
	return h
}

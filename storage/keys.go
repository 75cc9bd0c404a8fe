package storage

// The key layout, in one place. Every key starts with a prefix naming its
// concern; variable parts are path-escaped so an id containing "/" cannot
// run into the next part. Records that belong to a person carry the same
// TTL as an index entry under user/, so everything about a person is found
// (export, erasure) by one prefix scan.
//
//	meta/schema                          schema version, decimal
//	meta/secret/<name>                   a random key made on first use (pseudonym salt)
//	seen/<event key>                     idempotency mark, TTL storage.seen_ttl
//	hist/<platform>/<channel>/<thread>/<time>-<seq>
//	                                     one turn of a thread (JSON bot.Turn), TTL storage.message_ttl
//	user/<platform>/<user id>/<record key>
//	                                     index: a record belonging to that user (value empty)
//	owner/<platform>/<channel>/<thread>  who owns the thread (JSON bot.Owner)
//	audit/<time>-<seq>                   audit log entry (JSON AuditEntry)
//	spill/<time>-<seq>                   event waiting for room in the queue (JSON bot.Event)
//	auth/login/<sha256 hex>              one-time dashboard login code (JSON LoginCode), TTL
//	sent/row/<platform>/<channel>/<time>-<seq>
//	                                     one scored message (JSON monitor.Row), TTL storage.message_ttl
//	sent/hour/<platform>/<channel>/<hour start, 16 hex unix>
//	sent/day/<platform>/<channel>/<day start, 16 hex unix>
//	                                     sentiment aggregates (JSON monitor.Bucket), updated with each row
//	sent/alert/<platform>/<channel>      when the last spike alert went out (RFC 3339)
//	esc/<platform>/<channel>/<thread>    the thread's latest escalation (JSON handoff.Escalation)
//	kb/doc/<source>                      a knowledge document as last synced (JSON knowledge.Doc)
//	kb/chunk/<source>/<index, 5 digits>  one chunk of it (JSON knowledge.Chunk)
//	auth/session/<sha256 hex>            dashboard session (JSON Session), TTL

import (
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/einsatz/einsatz/bot"
)

const (
	prefixMeta  = "meta/"
	prefixSeen  = "seen/"
	prefixHist  = "hist/"
	prefixUser  = "user/"
	prefixOwner = "owner/"
	prefixAudit = "audit/"
	prefixSpill = "spill/"
	prefixLogin = "auth/login/"
	prefixDoc   = "kb/doc/"
	prefixSent  = "sent/"
	prefixEsc   = "esc/"
	prefixChunk = "kb/chunk/"
	prefixSess  = "auth/session/"

	keySchema = prefixMeta + "schema"
)

func join(parts ...string) string {
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.PathEscape(p)
	}
	return strings.Join(esc, "/")
}

func threadPart(t bot.ThreadRef) string {
	return join(t.Platform, t.ChannelID, t.ThreadID)
}

func seenKey(eventKey string) []byte { return []byte(prefixSeen + url.PathEscape(eventKey)) }

func histPrefix(t bot.ThreadRef) string { return prefixHist + threadPart(t) + "/" }

func ownerKey(t bot.ThreadRef) []byte { return []byte(prefixOwner + threadPart(t)) }

func userPrefix(platform, userID string) string {
	return prefixUser + join(platform, userID) + "/"
}

func userIndexKey(platform, userID, recordKey string) []byte {
	return []byte(userPrefix(platform, userID) + recordKey)
}

// timeSeq is a key part that sorts by time, then by write order (seq makes
// keys written in the same nanosecond distinct).
func timeSeq(t time.Time, seq *atomic.Uint32) string {
	return fmt.Sprintf("%016x-%08x", uint64(t.UnixNano()), seq.Add(1))
}

package storage

// The key layout, in one place. Every key starts with a prefix naming its
// concern; variable parts are path-escaped so an id containing "/" cannot
// run into the next part. Records that belong to a person carry the same
// TTL as an index entry under user/, so everything about a person is found
// (export, erasure) by one prefix scan.
//
//	meta/schema                          schema version, decimal
//	meta/secret/<name>                   a random key made on first use (pseudonym salt)
//	seen/<sha256 of the event key>       idempotency mark, TTL storage.seen_ttl (imports: none)
//	hist/<platform>/<channel>/<thread>/<time>-<seq>
//	                                     one turn of a thread (JSON bot.Turn), expires message_ttl after the turn's time
//	user/<platform>/<user id>/<record key>
//	                                     index: a record belonging to that user (value empty)
//	owner/<platform>/<channel>/<thread>  who owns the thread (JSON bot.Owner)
//	audit/<time>-<seq>                   audit log entry (JSON AuditEntry), TTL storage.audit_ttl
//	spill/<time>-<seq>                   event waiting for room in the queue (JSON bot.Event)
//	unfinished/<sha256 of the event key> an event accepted (seen/ written in the same write) whose replies are not
//	                                     yet sent (JSON bot.Event); deleted when it is done, resumed at start
//	auth/login/<sha256 hex>              one-time dashboard login code (JSON LoginCode), TTL
//	sent/row/<platform>/<channel>/<time>-<seq>
//	                                     one scored message (JSON mood.Row), expires sentiment_ttl after its time
//	sent/hour/<platform>/<channel>/<hour start, 16 hex unix>
//	sent/day/<platform>/<channel>/<day start, 16 hex unix>
//	                                     sentiment aggregates (JSON mood.Bucket), updated with each row
//	sent/alert/<platform>/<channel>      when the last spike alert went out (RFC 3339)
//	esc/<platform>/<channel>/<thread>    the thread's latest escalation (JSON escalation.Escalation); message_ttl from its creation
//	relay/msg/<platform>/<channel>/<thread>/<message id>
//	                                     a message the staff-thread relay copied (JSON escalation.Relayed: ids, no
//	                                     text); written before the copy is posted; message_ttl
//	relay/thread/<platform>/<channel>/<thread>
//	                                     the member thread a staff thread stands for (JSON bot.ThreadRef); message_ttl
//	sup/q/<time 16 hex>-<seq 8 hex>      a question asked (JSON qa.Question, without votes); the part
//	                                     after sup/q/ is the question ID; TTL storage.feedback_ttl
//	sup/vote/<question id>/<platform>/<user id>
//	                                     one person's latest rating of the answer (JSON qa.Vote), TTL feedback_ttl
//	sup/draft/<question id>              a shadow-mode draft (JSON qa.Draft), TTL feedback_ttl
//	                                     (sup/ records have user index entries: questions and drafts
//	                                     under the asker, votes under the voter)
//	inbox/seq                                   the last item number given out (decimal)
//	inbox/item/<id, 10 digits>                  an item (JSON request.Item without mentions and votes)
//	inbox/mention/<id, 10 digits>/<time>-<seq>  one mention of the item (JSON request.Mention)
//	inbox/vote/<id, 10 digits>/<platform>/<user id>
//	                                            one person's vote for the item (JSON request.Vote)
//	inbox/msg/<platform>/<channel>/<message id> the item a message was filed under (decimal id)
//	inbox/notice/<platform>/<channel>/<YYYYMMDD>
//	                                            status posts in the channel that day (decimal), TTL 48h
//	inbox/optin/<platform>/<user id>            DMs on status changes wanted (JSON request.OptIn; user-indexed, erased)
//	                                     (mentions, votes and opt-ins have user index entries; erasure
//	                                     deletes a mention and an opt-in and keeps the vote without the person)
//	kb/doc/<source>                      a knowledge document as last synced (JSON kb.Doc)
//	kb/chunk/<source>/<index, 5 digits>  one chunk of it (JSON kb.Chunk)
//	kb/vec/<source>/<chunk id>           embedding of one chunk (binary, see encodeVector): model name,
//	                                     chunk id and source, hash of the embedded text, dimension,
//	                                     float32 little-endian
//	kb/src/<source id>                   a remote knowledge source's sync state (JSON kb.SourceState):
//	                                     last sync, counts, per page ETag / Last-Modified / hash
//	kb/cand/<candidate id>               a solved thread waiting as a knowledge candidate (JSON solved.Candidate:
//	                                     redacted question and answer, no user id)
//	kb/nudge/<thread key>                a member's question thread watched for the "did this solve it?" nudge
//	                                     (JSON solved.Nudge: thread, language, times; no user id)
//	auth/session/<sha256 hex>            dashboard session (JSON Session), TTL
//	name/user/<platform>/<user id>       a member's display name as last seen (text; user-indexed,
//	                                     erased with the person), TTL storage.message_ttl from when seen
//	name/channel/<platform>/<channel id> a channel's name as last seen (text), TTL message_ttl
//	dash/visit/<account>                 a staff account's visits of the overview (JSON: previous, last)
//	catchup/<platform>/<channel>/<thread>
//	                                     the newest message the core handled in the thread (JSON catchup.Seen:
//	                                     ids and time, no text), for the catch-up after a restart; TTL 24h

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"

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
	prefixUnfin = "unfinished/"
	prefixLogin = "auth/login/"
	prefixDoc   = "kb/doc/"
	prefixSent  = "sent/"
	prefixEsc   = "esc/"
	prefixChunk = "kb/chunk/"

	prefixRelayMsg    = "relay/msg/"
	prefixRelayThread = "relay/thread/"
	prefixSess        = "auth/session/"

	// The features' records: each feature's store owns its prefixes, and
	// its part of a person (export, erasure) is the records under them.
	prefixInbox        = "inbox/"
	prefixInboxItem    = prefixInbox + "item/"
	prefixInboxMention = prefixInbox + "mention/"
	prefixInboxVote    = prefixInbox + "vote/"
	prefixInboxMsg     = prefixInbox + "msg/"
	prefixInboxNotice  = prefixInbox + "notice/"
	prefixInboxOptIn   = prefixInbox + "optin/"
	keyInboxSeq        = prefixInbox + "seq"

	prefixSup      = "sup/"
	prefixSupQ     = prefixSup + "q/"
	prefixSupVote  = prefixSup + "vote/"
	prefixSupDraft = prefixSup + "draft/"

	prefixVec      = "kb/vec/"
	prefixKBSource = "kb/src/"
	prefixKBCand   = "kb/cand/"
	prefixKBNudge  = "kb/nudge/"
	prefixKBOptOut = "kb/optout/"

	prefixName      = "name/"
	prefixDashVisit = "dash/visit/"
	prefixCatchUp   = "catchup/"

	keySchema = prefixMeta + "schema"
)

// featurePrefixes are the prefixes whose personal records a feature's
// store exports and erases (Inbox, Support, Sentiment, Handoff); the
// shared Store's part is every other record of a person.
var featurePrefixes = []string{prefixInbox, prefixSup, prefixSent, prefixEsc}

func ownedByFeature(key string) bool {
	for _, p := range featurePrefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

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

// seenKey hashes the event key: event keys can hold ids of people (a web
// conversation), and idempotency marks must not outlive an erasure.
func seenKey(eventKey string) []byte {
	sum := sha256.Sum256([]byte(eventKey))
	return []byte(prefixSeen + hex.EncodeToString(sum[:16]))
}

// unfinishedKey is hashed like seenKey, for the same reason.
func unfinishedKey(eventKey string) []byte {
	sum := sha256.Sum256([]byte(eventKey))
	return []byte(prefixUnfin + hex.EncodeToString(sum[:16]))
}

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

// expiring makes an entry that expires ttl after at (the record's own time,
// so an imported old message expires when its live twin would have); nil
// when that moment has passed already, and the record must not be stored.
func expiring(key, value []byte, at time.Time, ttl time.Duration) *badger.Entry {
	e := badger.NewEntry(key, value)
	if ttl <= 0 {
		return e
	}
	if at.IsZero() {
		at = time.Now()
	}
	if !kept(at, ttl) {
		return nil
	}
	e.ExpiresAt = uint64(at.Add(ttl).Unix())
	return e
}

// kept reports whether a record of time at is still inside its retention.
func kept(at time.Time, ttl time.Duration) bool {
	return at.IsZero() || ttl <= 0 || at.Add(ttl).After(time.Now())
}

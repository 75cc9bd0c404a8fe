package web

import (
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/bottest"
)

func liveServer(clock bot.Clock) *Server {
	return &Server{opts: Options{Clock: clock, LiveIdle: 30 * time.Minute}, log: slog.New(slog.DiscardHandler), live: map[string]*liveConv{}}
}

func TestLiveBacklogIsBounded(t *testing.T) {
	s := liveServer(bottest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)))
	big := strings.Repeat("x", 3000)
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range 200 {
		s.recordReplyLocked("c1", bot.Reply{Text: big + strconv.Itoa(i)})
	}
	c := s.live["c1"]
	if len(c.backlog) > maxBacklog || c.bytes > maxConvBytes || c.bytes != s.liveBytes {
		t.Fatalf("one conversation: %d events, %d bytes (server %d)", len(c.backlog), c.bytes, s.liveBytes)
	}
	if !strings.HasSuffix(string(c.backlog[len(c.backlog)-1].data), `199"}`) {
		t.Fatal("the newest event was not kept")
	}
	// Many conversations: the oldest idle ones go when the budget is spent.
	for i := range 1000 {
		s.recordReplyLocked("conv"+strconv.Itoa(i), bot.Reply{Text: big})
		s.recordReplyLocked("conv"+strconv.Itoa(i), bot.Reply{Text: big})
	}
	if s.liveBytes > maxLiveBytes {
		t.Fatalf("backlogs hold %d bytes, budget %d", s.liveBytes, maxLiveBytes)
	}
	total := 0
	for _, c := range s.live {
		total += c.bytes
	}
	if total != s.liveBytes {
		t.Fatalf("bytes counted %d, held %d", s.liveBytes, total)
	}
}

func TestLiveEventIDsIncreaseAcrossExpiry(t *testing.T) {
	clock := bottest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	s := liveServer(clock)
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.recordReplyLocked("c1", bot.Reply{Text: "one"}).EventID
	b := s.recordReplyLocked("c1", bot.Reply{Text: "two"}).EventID // same instant
	if b <= a {
		t.Fatalf("ids %d then %d", a, b)
	}
	clock.Advance(time.Hour)
	s.sweepLocked(clock.Now())
	if _, ok := s.live["c1"]; ok {
		t.Fatal("an idle conversation was kept")
	}
	// A new stream of the same conversation (or after a restart) starts
	// above every id a client may still hold.
	if c := s.recordReplyLocked("c1", bot.Reply{Text: "three"}).EventID; c <= b {
		t.Fatalf("id after expiry %d, before %d", c, b)
	}
}

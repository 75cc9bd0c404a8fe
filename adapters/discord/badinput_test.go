package discord_test

import (
	"strings"
	"testing"

	"github.com/einsatz/einsatz/adapters/discord/discordtest"
	"github.com/einsatz/einsatz/bot"
)

// beforeAnswer posts a message and runs change after the core has accepted
// it but before the bot answers: the echo handler records under e.mu, so
// holding it keeps the answer back until change is done.
func (e *env) beforeAnswer(post func() discordtest.Message, change func(m discordtest.Message)) discordtest.Message {
	e.t.Helper()
	before := e.core.Stats().Received
	e.mu.Lock()
	defer e.mu.Unlock()
	m := post()
	e.eventually("the core to accept the message", func() bool { return e.core.Stats().Received > before })
	change(m)
	return m
}

// logLine reports whether one log line contains every part.
func (e *env) logLine(parts ...string) bool {
	for _, l := range strings.Split(e.logs.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return true
		}
	}
	return false
}

// Bad input: the channel is deleted between the question and the answer
// (Discord answers 10003 Unknown Channel): logged with the channel and the
// cause, counted as a send error, nothing posted, and the bot goes on.
func TestUnknownChannelIsLoggedNotFatal(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	doomed := e.srv.TextChannel(e.srv.Guild, "doomed")
	alice := e.srv.NewUser("Alice")
	e.beforeAnswer(func() discordtest.Message { return e.srv.Post(doomed, alice, "quick question", true) },
		func(discordtest.Message) { e.srv.DeleteChannel(doomed) })

	e.eventually("the send error", func() bool { return e.core.Stats().SendErrors == 1 })
	if !e.logLine("level=WARN", "channel="+doomed, "the channel is gone") ||
		!e.logLine("channel="+doomed, "unknown channel (deleted") {
		t.Errorf("logs do not name the channel and the cause:\n%s", e.logs.String())
	}
	if all := e.srv.AllBotMessages(); len(all) != 0 {
		t.Errorf("bot posted somewhere: %+v", all)
	}
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started in a deleted channel", n)
	}
	m := e.srv.Post(e.general, alice, "still there?", true)
	e.eventually("an answer elsewhere", func() bool { return len(e.botMessages(m.ID)) == 1 })
}

// Bad input: the thread of a conversation is deleted before the bot answers
// a follow-up in it (10003 on the post): logged with the thread and the
// cause; the bot goes on.
func TestDeletedThreadIsLoggedNotFatal(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	q := e.srv.Post(e.general, alice, "first question", true)
	e.eventually("the first answer", func() bool { return len(e.botMessages(q.ID)) == 1 })

	e.beforeAnswer(func() discordtest.Message { return e.srv.Post(q.ID, alice, "a follow-up", false) },
		func(discordtest.Message) { e.srv.DeleteChannel(q.ID) })
	e.eventually("the send error", func() bool { return e.core.Stats().SendErrors == 1 })
	if !e.logLine("level=WARN", "posting a reply failed", "channel="+q.ID, "unknown channel (deleted") {
		t.Errorf("logs do not name the thread and the cause:\n%s", e.logs.String())
	}
	if n := len(e.botMessages(e.general)); n != 0 {
		t.Errorf("%d answers went to the parent channel instead", n)
	}
	m := e.srv.Post(e.general, alice, "new question", true)
	e.eventually("the next answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
}

// Bad input: the question is deleted before the bot starts its thread
// (Discord answers 10008 Unknown Message). The adapter logs it with the
// channel and the message and answers in the channel instead, without a
// reference to the deleted message (which Discord would reject); the next
// question gets its thread as usual.
func TestDeletedQuestionIsAnsweredInTheChannel(t *testing.T) {
	t.Parallel()
	e := start(t, envOptions{})
	alice := e.srv.NewUser("Alice")
	q := e.beforeAnswer(func() discordtest.Message { return e.srv.Post(e.general, alice, "oops, wrong channel", true) },
		func(m discordtest.Message) { e.srv.DeleteMessage(e.general, m.ID) })

	e.eventually("the answer in the channel", func() bool { return len(e.botMessages(e.general)) == 1 })
	got := e.botMessages(e.general)[0]
	if !strings.HasPrefix(got.Content, "echo: oops, wrong channel (history 0)") || got.ReferenceID != "" {
		t.Errorf("answer = %q replying to %q, want the echo without a reference", got.Content, got.ReferenceID)
	}
	if !e.logLine("level=WARN", "answering in the channel instead", "channel="+e.general, "message="+q.ID, "unknown message (deleted)") {
		t.Errorf("logs do not name the channel, the message and the cause:\n%s", e.logs.String())
	}
	if n := len(e.srv.ThreadStarts()); n != 0 {
		t.Errorf("%d threads started from a deleted message", n)
	}
	if _, ok := e.srv.ChannelInfo(q.ID); ok {
		t.Errorf("a thread exists for the deleted message")
	}
	if n := e.core.Stats().SendErrors; n != 0 {
		t.Errorf("%d send errors, want 0 (the fallback worked)", n)
	}

	m := e.srv.Post(e.general, alice, "the real question", true)
	e.eventually("the next answer in its thread", func() bool { return len(e.botMessages(m.ID)) == 1 })
	if n := len(e.botMessages(e.general)); n != 1 {
		t.Errorf("%d bot messages in the channel, want only the fallback answer", n)
	}
}

// bot.Options.DMsOff: a DM gets no answer (observers still see it) while a
// mention in a channel is answered; with DMs on the DM is answered too.
func TestDMsOffSilencesDirectMessagesOnly(t *testing.T) {
	t.Parallel()
	for _, off := range []bool{false, true} {
		name := "on"
		if off {
			name = "off"
		}
		t.Run("DMs "+name, func(t *testing.T) {
			t.Parallel()
			e := start(t, envOptions{dmsOff: off})
			alice := e.srv.NewUser("Alice")
			dm := e.srv.DMChannel(alice)
			d := e.srv.Post(dm, alice, "hello in private", false)
			m := e.srv.Post(e.general, alice, "hello in public", true)

			e.eventually("the mention's answer", func() bool { return len(e.botMessages(m.ID)) == 1 })
			e.eventually("the observer to see the DM", func() bool {
				return len(e.observedWhere(func(ev bot.Event) bool { return ev.MessageID == d.ID && ev.DM })) == 1
			})
			if off {
				e.settle()
				if got := e.botMessages(dm); len(got) != 0 {
					t.Errorf("DMs off, yet the DM was answered: %+v", got)
				}
				if got := e.srv.DirectMessages(alice); len(got) != 0 {
					t.Errorf("DMs off, yet the bot wrote to alice: %+v", got)
				}
				return
			}
			e.eventually("the DM's answer", func() bool { return len(e.botMessages(dm)) == 1 })
			if got := e.botMessages(dm)[0].Content; !strings.HasPrefix(got, "echo: hello in private (history 0)") {
				t.Errorf("DM answer = %q", got)
			}
		})
	}
}

package solutions

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/einsatz/einsatz/bot"
)

// Forums reads and changes forum posts: *bot.Bot, through the adapters
// with the bot.Forums ability (Discord).
type Forums interface {
	ForumPost(ctx context.Context, in bot.ThreadRef) (bot.ForumPost, bool, error)
	UpdateForumPost(ctx context.Context, in bot.ThreadRef, tags []string, archive bool) error
}

// Reactor adds the bot's reaction to a message: *bot.Bot.
type Reactor interface {
	React(ctx context.Context, in bot.ThreadRef, messageID, emoji string) error
}

// DefaultForumTags are the names of a forum's "solved" tag.
var DefaultForumTags = []string{"Solved", "Gelöst"}

// DefaultOpenTags are the names of tags that say a post is not solved
// yet; a solved post loses them.
var DefaultOpenTags = []string{"Unsolved", "Ungelöst", "Open", "Offen"}

// maxAppliedTags is how many tags a Discord forum post carries at most.
const maxAppliedTags = 5

// tagKey compares tag names: letters and digits only, lower case, so
// "✅ Solved" and "solved" are the same.
func tagKey(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// solvedTag is the forum's tag with one of names (in the order of names).
func solvedTag(available []bot.ForumTag, names []string) (bot.ForumTag, bool) {
	for _, n := range names {
		k := tagKey(n)
		if k == "" {
			continue
		}
		for _, t := range available {
			if tagKey(t.Name) == k {
				return t, true
			}
		}
	}
	return bot.ForumTag{}, false
}

// solvedTags are the tags a solved post carries: its own but the open
// ones (ids in open), plus the solved tag; when the post is full the last
// other tag makes room. changed is false when nothing changes.
func solvedTags(applied []string, tag string, open map[string]bool) (tags []string, changed bool) {
	for _, id := range applied {
		if !open[id] && id != tag {
			tags = append(tags, id)
		}
	}
	if len(tags) >= maxAppliedTags {
		tags = tags[:maxAppliedTags-1]
	}
	if i := slices.Index(applied, tag); i >= 0 && len(tags) == len(applied)-1 {
		return applied, false // carries it already, and no open tag
	}
	return append(tags, tag), true
}

// openTags are the ids of the forum's tags named like one of names.
func openTags(available []bot.ForumTag, names []string) map[string]bool {
	keys := map[string]bool{}
	for _, n := range names {
		if k := tagKey(n); k != "" {
			keys[k] = true
		}
	}
	out := map[string]bool{}
	for _, t := range available {
		if keys[tagKey(t.Name)] {
			out[t.ID] = true
		}
	}
	return out
}

// showSolved shows on the platform that a thread is solved: a forum post
// gets the forum's solved tag and, with Options.Archive, is archived; a
// Slack thread's parent message gets the bot's ✅. It logs what fails (a
// missing permission) rather than failing the mark.
func (s *Service) showSolved(ctx context.Context, thread bot.ThreadRef) {
	if thread.ThreadID == "" {
		return
	}
	if thread.Platform == bot.PlatformSlack {
		// Slack has no forums: a ✅ on the parent shows the thread solved
		// in the channel. The bot's own reaction marks nothing.
		if s.o.Reactor != nil && slackTS(thread.ThreadID) {
			if err := s.o.Reactor.React(ctx, thread, thread.ThreadID, DefaultReaction); err != nil {
				s.o.Logger.Warn("solutions: reacting ✅ on the solved thread failed", "thread", thread.Key(), "err", err)
			}
		}
		return
	}
	if s.o.Forums == nil {
		return
	}
	post, ok, err := s.o.Forums.ForumPost(ctx, thread)
	if err != nil {
		s.o.Logger.Warn("solutions: reading the forum post failed", "thread", thread.Key(), "err", err)
		return
	}
	if !ok || post.Archived {
		return
	}
	names := s.o.ForumTags
	if len(names) == 0 {
		names = DefaultForumTags
	}
	tags, changed := post.Applied, false
	open := s.o.OpenTags
	if open == nil {
		open = DefaultOpenTags
	}
	if t, found := solvedTag(post.Tags, names); found {
		tags, changed = solvedTags(post.Applied, t.ID, openTags(post.Tags, open))
	}
	if !changed && !s.o.Archive {
		return
	}
	if err := s.o.Forums.UpdateForumPost(ctx, thread, tags, s.o.Archive); err != nil {
		s.o.Logger.Warn("solutions: tagging the solved forum post failed (the bot needs Manage Threads in the forum)",
			"thread", thread.Key(), "err", err)
		return
	}
	s.o.Logger.Info("solutions: forum post shown solved", "thread", thread.Key(), "tagged", changed, "archived", s.o.Archive)
}

// slackTS reports whether a Slack thread id is a message's ts ("1712.0001"),
// not the synthetic id of a DM or a slash command's thread.
func slackTS(id string) bool {
	a, b, ok := strings.Cut(id, ".")
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	return ok && digits(a) && digits(b)
}

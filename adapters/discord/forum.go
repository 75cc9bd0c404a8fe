package discord

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/einsatz/einsatz/bot"
)

var _ bot.Forums = (*Adapter)(nil)

// ForumPost describes a post in a forum (or media) channel: its forum's
// available tags, the ids it carries and whether it is archived. ok is
// false for any other channel or thread.
func (a *Adapter) ForumPost(ctx context.Context, in bot.ThreadRef) (bot.ForumPost, bool, error) {
	if in.ThreadID == "" || in.ThreadID == in.ChannelID {
		return bot.ForumPost{}, false, nil
	}
	th, err := a.s.Channel(in.ThreadID, discordgo.WithContext(ctx))
	if err != nil {
		return bot.ForumPost{}, false, fmt.Errorf("discord: thread %s: %w", in.ThreadID, err)
	}
	if !isThreadType(th.Type) || th.ParentID == "" {
		return bot.ForumPost{}, false, nil
	}
	forum, err := a.s.Channel(th.ParentID, discordgo.WithContext(ctx))
	if err != nil {
		return bot.ForumPost{}, false, fmt.Errorf("discord: forum %s: %w", th.ParentID, err)
	}
	if forum.Type != discordgo.ChannelTypeGuildForum && forum.Type != discordgo.ChannelTypeGuildMedia {
		return bot.ForumPost{}, false, nil
	}
	post := bot.ForumPost{Applied: th.AppliedTags}
	if th.ThreadMetadata != nil {
		post.Archived = th.ThreadMetadata.Archived
	}
	for _, t := range forum.AvailableTags {
		post.Tags = append(post.Tags, bot.ForumTag{ID: t.ID, Name: t.Name, Moderated: t.Moderated})
	}
	return post, true, nil
}

// UpdateForumPost sets a forum post's applied tags and, with archive,
// archives it, in one PATCH /channels/{thread}. Changing a post someone
// else started needs Manage Threads.
func (a *Adapter) UpdateForumPost(ctx context.Context, in bot.ThreadRef, tags []string, archive bool) error {
	edit := &discordgo.ChannelEdit{}
	if tags != nil {
		edit.AppliedTags = &tags
	}
	if archive {
		yes := true
		edit.Archived = &yes
	}
	if _, err := a.s.ChannelEdit(in.ThreadID, edit, discordgo.WithContext(ctx)); err != nil {
		if restCode(err) == discordgo.ErrCodeMissingPermissions {
			return fmt.Errorf("discord: update forum post %s: the bot needs Manage Threads in the forum: %w", in.ThreadID, err)
		}
		return fmt.Errorf("discord: update forum post %s: %w", in.ThreadID, err)
	}
	return nil
}

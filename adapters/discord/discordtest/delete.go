package discordtest

// DeleteMessage deletes a message as its author or a moderator would and
// dispatches MESSAGE_DELETE. Afterwards Discord answers every REST call
// about the message (fetch, edit, react, start a thread from it, reply to
// it) with 404 Unknown Message (10008). A thread already started from the
// message stays, as on Discord.
func (s *Server) DeleteMessage(channelID, messageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[messageID]
	if m == nil || m.Deleted || m.ChannelID != channelID {
		panic("discordtest: no message " + messageID + " in channel " + channelID)
	}
	s.deleteMessageLocked(m)
}

// EditMessage changes a user's message as its author would and dispatches
// MESSAGE_UPDATE (with edited_timestamp).
func (s *Server) EditMessage(channelID, messageID, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[messageID]
	if m == nil || m.Deleted || m.ChannelID != channelID {
		panic("discordtest: no message " + messageID + " in channel " + channelID)
	}
	m.Content, m.Edited = content, true
	s.dispatchMessageLocked("MESSAGE_UPDATE", m)
}

func (s *Server) deleteMessageLocked(m *Message) {
	m.Deleted = true
	if m.Flags&flagEphemeral != 0 {
		return
	}
	intent := intentDirectMessages
	d := map[string]any{"id": m.ID, "channel_id": m.ChannelID}
	if m.GuildID != "" {
		intent = intentGuildMessages
		d["guild_id"] = m.GuildID
	}
	s.dispatchLocked("MESSAGE_DELETE", intent, d)
}

// DeleteChannel deletes a guild channel, forum or thread as an admin
// would. A channel dispatches CHANNEL_DELETE, a thread THREAD_DELETE (id,
// guild_id, parent_id, type); the threads of a deleted channel go with it
// and every message in them is gone. Afterwards Discord answers REST calls
// on the channel (post, typing, fetch, start a thread) with 404 Unknown
// Channel (10003). DM channels cannot be deleted.
func (s *Server) DeleteChannel(channelID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[channelID]
	if c == nil || c.Type == TypeDM {
		panic("discordtest: no guild channel " + channelID)
	}
	if c.Type == TypeThread {
		s.dispatchLocked("THREAD_DELETE", intentGuilds, map[string]any{
			"id": c.ID, "guild_id": c.GuildID, "parent_id": c.ParentID, "type": c.Type,
		})
	} else {
		s.dispatchLocked("CHANNEL_DELETE", intentGuilds, s.channelPayloadLocked(c))
	}
	gone := []string{c.ID}
	for id, th := range s.channels {
		if th.Type == TypeThread && th.ParentID == c.ID {
			gone = append(gone, id)
		}
	}
	for _, id := range gone {
		delete(s.channels, id)
		for _, mid := range s.byChannel[id] {
			if m := s.messages[mid]; m != nil {
				m.Deleted = true // no MESSAGE_DELETE per message: the channel's deletion says it all
			}
		}
	}
}

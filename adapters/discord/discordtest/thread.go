package discordtest

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
)

// patchThread is PATCH /channels/{cid} on a thread: applied_tags (forum
// posts only, at most 5, of the forum's available_tags) and archived.
// Discord's rules: the thread's owner may change both, anyone else needs
// Manage Threads (so does a moderated tag); an archived thread takes no
// change unless the same request sets archived to false (50083). It
// dispatches THREAD_UPDATE.
func (s *Server) patchThread(w http.ResponseWriter, r *http.Request) {
	var b struct {
		AppliedTags *[]string `json:"applied_tags"`
		Archived    *bool     `json:"archived"`
	}
	data, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(data, &b)
	}
	if err != nil {
		apiError(w, 400, 50109, "The request body contains invalid JSON.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[r.PathValue("cid")]
	switch {
	case c == nil:
		apiError(w, 404, 10003, "Unknown Channel")
		return
	case c.Type != TypeThread:
		s.logf("rest: PATCH of a %d channel is not served by the fake", c.Type)
		apiError(w, 403, 50013, "Missing Permissions")
		return
	case c.OwnerID != s.BotID && s.noThreads:
		apiError(w, 403, 50013, "Missing Permissions")
		return
	case c.Archived && (b.Archived == nil || *b.Archived):
		apiError(w, 400, 50083, "Thread is archived")
		return
	}
	parent := s.channels[c.ParentID]
	if b.AppliedTags != nil {
		tags := *b.AppliedTags
		switch {
		case parent == nil || parent.Type != TypeForum:
			formError(w, "applied_tags", "BASE_TYPE_CHOICES", "Tags can only be applied to forum posts.")
			return
		case len(tags) > 5:
			formError(w, "applied_tags", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
			return
		}
		for _, id := range tags {
			i := slices.IndexFunc(parent.Tags, func(t Tag) bool { return t.ID == id })
			if i < 0 {
				formError(w, "applied_tags", "BASE_TYPE_CHOICES", "Value(s) "+id+" are not valid tags.")
				return
			}
			if parent.Tags[i].Moderated && s.noThreads && !slices.Contains(c.AppliedTags, id) {
				apiError(w, 403, 50013, "Missing Permissions")
				return
			}
		}
		c.AppliedTags = slices.Clone(tags)
	}
	if b.Archived != nil {
		c.Archived = *b.Archived
	}
	s.logf("rest: thread %s patched (tags %v, archived %v)", c.ID, c.AppliedTags, c.Archived)
	p := s.channelPayloadLocked(c)
	s.dispatchLocked("THREAD_UPDATE", intentGuilds, p)
	writeJSON(w, 200, p)
}

// TagPost sets the tags a member chose for their forum post (tag ids of
// the forum, at most 5) and dispatches THREAD_UPDATE.
func (s *Server) TagPost(threadID string, tagIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.channels[threadID]
	if c == nil || c.Type != TypeThread || len(tagIDs) > 5 {
		panic("discordtest: no forum post " + threadID + " or more than 5 tags")
	}
	c.AppliedTags = slices.Clone(tagIDs)
	s.dispatchLocked("THREAD_UPDATE", intentGuilds, s.channelPayloadLocked(c))
}

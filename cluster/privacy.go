package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/escalation"
	"github.com/einsatz/einsatz/bot/personal"
	"github.com/einsatz/einsatz/bot/request"
)

// Export and erasure reach the shared records as they reach each node's
// store (storage.Parts): the escalations naming a person and their inbox
// mentions, votes and opt-in. The bucket keeps one revision per key, so a
// record changed or deleted here is gone from it. Sentiment counts hold
// no personal data (the rows stay in each node's store).

var (
	_ personal.Part = (*Escalations)(nil)
	_ personal.Part = (*Inbox)(nil)
)

func (x *Escalations) naming(platform, userID string) []escalation.Escalation {
	var out []escalation.Escalation
	for _, e := range x.s.all() {
		if e.User.Platform == platform && e.User.ID == userID {
			out = append(out, e)
		}
	}
	return out
}

// Export returns the escalations naming the person.
func (x *Escalations) Export(_ context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	for _, e := range x.naming(platform, userID) {
		v, err := json.Marshal(e)
		if err != nil {
			return out, err
		}
		out["escalations"] = append(out["escalations"], v)
	}
	return out, nil
}

// Erase keeps the escalations naming the person, for staff's numbers, but
// without their name, summary and link (as on one machine).
func (x *Escalations) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	res := personal.NewErasure()
	for _, e := range x.naming(platform, userID) {
		_, err := x.UpdateEscalation(ctx, e.Thread, func(cur *escalation.Escalation) error {
			if cur.User.Platform != platform || cur.User.ID != userID {
				return errStop
			}
			cur.User = bot.User{Platform: platform, ID: "erased", Name: "(erased)"}
			cur.Summary, cur.Permalink = "", ""
			return nil
		})
		if errors.Is(err, errStop) || errors.Is(err, escalation.ErrNotFound) {
			continue
		}
		if err != nil {
			return res, err
		}
		res.Anonymized["escalations"]++
	}
	return res, nil
}

// personal lists the person's inbox records by key.
func (x *Inbox) personal(platform, userID string) map[string]inboxRecord {
	out := map[string]inboxRecord{}
	x.s.each("", func(k string, r inboxRecord) {
		switch {
		case r.Mention != nil && r.Mention.Mention.Platform == platform && r.Mention.Mention.UserID == userID,
			r.Vote != nil && r.Vote.Vote.Platform == platform && r.Vote.Vote.UserID == userID,
			r.OptIn != nil && r.OptIn.Platform == platform && r.OptIn.UserID == userID:
			out[k] = r
		}
	})
	return out
}

// Export returns the person's mentions, votes and opt-in.
func (x *Inbox) Export(_ context.Context, platform, userID string) (map[string][]json.RawMessage, error) {
	out := map[string][]json.RawMessage{}
	for _, r := range x.personal(platform, userID) {
		var v any = r.OptIn
		switch {
		case r.Mention != nil:
			v = r.Mention.Mention
		case r.Vote != nil:
			v = r.Vote.Vote
		}
		data, err := json.Marshal(v)
		if err != nil {
			return out, err
		}
		out["inbox"] = append(out["inbox"], data)
	}
	return out, nil
}

// Erase deletes the person's mentions (first taking their words out of an
// item titled from them) and opt-in, and keeps their votes counting
// under an anonymous id.
func (x *Inbox) Erase(ctx context.Context, platform, userID, _ string) (personal.Erasure, error) {
	res := personal.NewErasure()
	for k, r := range x.personal(platform, userID) {
		switch {
		case r.Mention != nil:
			if err := x.retitleWithout(ctx, r.Mention.Item, k, r.Mention.Mention, userID); err != nil {
				return res, err
			}
			res.Removed["inbox"]++
		case r.Vote != nil:
			v := r.Vote.Vote
			v.UserID, v.Name = "erased-"+hashKey(k)[:8], ""
			if _, err := x.s.create(ctx, voteKey(r.Vote.Item, v), inboxRecord{Vote: &filedVote{Item: r.Vote.Item, Vote: v}}); err != nil {
				return res, err
			}
			res.Anonymized["inbox"]++
		default:
			res.Removed["inbox"]++
		}
		if err := x.s.remove(ctx, k); err != nil {
			return res, err
		}
	}
	return res, nil
}

// retitleWithout rewrites item id when its title or summary came from m:
// from another person's mention when there is one, else to a neutral
// title (as on one machine).
func (x *Inbox) retitleWithout(ctx context.Context, id int, key string, m request.Mention, userID string) error {
	others := x.gather(id)[id].Mentions // oldest first
	err := x.changeItem(ctx, id, func(it *request.Item) error {
		text := strings.Join(strings.Fields(m.Text), " ")
		if it.Title != request.Title(m.Text) && !strings.HasPrefix(text, strings.TrimSuffix(it.Summary, "…")) {
			return errStop // titled from someone else's words, or by staff
		}
		it.Title, it.Summary = fmt.Sprintf("Request #%d (its first wording was erased on request)", id), ""
		for _, o := range others {
			if mentionKey(o) != key && o.UserID != userID && strings.TrimSpace(o.Text) != "" {
				it.Title, it.Summary = request.Title(o.Text), request.Summary(o.Text)
				break
			}
		}
		return nil
	})
	if errors.Is(err, errStop) || errors.Is(err, request.ErrNotFound) {
		return nil
	}
	return err
}

package inbox

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/einsatz/einsatz/bot/request"
)

// Limits of an edited title and summary (those an LLM's confirmation may
// set, too).
const (
	maxTitle   = 120
	maxSummary = 600
)

// MarkNotRequest takes a false positive of the detector out of the inbox:
// the item becomes not_request, leaves the lists (a status filter still
// shows it) and stops collecting mentions. Unlike SetStatus it posts in no
// thread, sends no direct message and the webhooks hear EventNotRequest,
// not a status change. Its mentions stay as labelled negatives for the
// detector's evaluation (WriteNegatives).
func (s *Service) MarkNotRequest(ctx context.Context, id int, by string) (request.Item, error) {
	it, err := s.quietMove(ctx, id, by, request.StatusNotRequest, EventNotRequest, func(it *request.Item) error {
		switch it.Status {
		case request.StatusNotRequest:
			return fmt.Errorf("%w: #%d is marked as not a request already", ErrBadStatus, it.ID)
		case request.StatusDuplicate:
			return fmt.Errorf("%w: #%d was merged into #%d; its mentions are there", ErrBadStatus, it.ID, it.DuplicateOf)
		}
		return nil
	})
	if err == nil {
		s.o.Logger.Info("inbox: item marked as not a request", "item", id)
	}
	return it, err
}

// RestoreRequest undoes MarkNotRequest: the item is new again and collects
// mentions; as with the removal, nobody is told.
func (s *Service) RestoreRequest(ctx context.Context, id int, by string) (request.Item, error) {
	return s.quietMove(ctx, id, by, request.StatusNew, EventRestored, func(it *request.Item) error {
		if it.Status != request.StatusNotRequest {
			return fmt.Errorf("%w: #%d is %s, not marked as not a request", ErrBadStatus, it.ID, it.Status)
		}
		return nil
	})
}

// quietMove changes an item's status without telling anyone in a thread:
// allowed may refuse the move; the change is recorded in the item's
// history, the matching index follows, and the webhooks hear event.
func (s *Service) quietMove(ctx context.Context, id int, by, to, event string, allowed func(*request.Item) error) (request.Item, error) {
	now := s.o.Clock.Now()
	var change request.Change
	it, err := s.o.Store.Update(ctx, id, func(it *request.Item) error {
		if err := allowed(it); err != nil {
			return err
		}
		change = request.Change{From: it.Status, To: to, By: by, Time: now}
		it.Status, it.Updated = to, now
		it.Changes = append(it.Changes, change)
		return nil
	})
	if err != nil {
		return request.Item{}, err
	}
	s.indexPut(it) // drops the item when it no longer collects requests
	if change.From == request.StatusMaybe && event == EventNotRequest {
		// The webhooks never heard of a maybe: nothing to take back.
		return it, nil
	}
	var first *request.Mention
	if event == EventNew && len(it.Mentions) > 0 {
		first = &it.Mentions[0] // as when Submit files a new item
	}
	s.hook(event, it, first, nil, &change)
	return it, nil
}

// EditRequest is the body of POST /api/admin/inbox/{id}/edit; a field left
// out (nil) stays as it is.
type EditRequest struct {
	Title   *string `json:"title,omitempty"`
	Summary *string `json:"summary,omitempty"`
}

// Edit changes an item's title and/or summary by a staff member. The
// change is recorded in the item's history with the old and new texts;
// nobody is told. A title cannot be empty; a summary can.
func (s *Service) Edit(ctx context.Context, id int, e EditRequest, by string) (request.Item, error) {
	var title, summary string
	if e.Title != nil {
		title = strings.Join(strings.Fields(*e.Title), " ")
		if title == "" {
			return request.Item{}, fmt.Errorf("%w: the title cannot be empty", ErrBadEdit)
		}
		if n := len([]rune(title)); n > maxTitle {
			return request.Item{}, fmt.Errorf("%w: the title has %d characters, at most %d", ErrBadEdit, n, maxTitle)
		}
	}
	if e.Summary != nil {
		summary = strings.TrimSpace(*e.Summary)
		if n := len([]rune(summary)); n > maxSummary {
			return request.Item{}, fmt.Errorf("%w: the summary has %d characters, at most %d", ErrBadEdit, n, maxSummary)
		}
	}
	now := s.o.Clock.Now()
	changed := false
	it, err := s.o.Store.Update(ctx, id, func(it *request.Item) error {
		var ed request.Edit
		if e.Title != nil && title != it.Title {
			ed.OldTitle, ed.Title = it.Title, title
			it.Title = title
			changed = true
		}
		if e.Summary != nil && summary != it.Summary {
			ed.OldSummary, ed.Summary = it.Summary, summary
			it.Summary = summary
			changed = true
		}
		if changed {
			it.Updated = now
			it.Changes = append(it.Changes, request.Change{From: it.Status, To: it.Status, Note: "edited " + ed.What(), By: by, Time: now, Edit: &ed})
		}
		return nil
	})
	if err != nil {
		return request.Item{}, err
	}
	if changed {
		s.indexPut(it) // the title is matched against new requests
	}
	return it, nil
}

// Negative is one mention of an item staff marked as not a request: a
// labelled negative example for evaluating the detector.
type Negative struct {
	Item      int       `json:"item"`
	Label     string    `json:"label"` // always "not_request"
	Text      string    `json:"text"`
	Lang      string    `json:"lang,omitempty"`
	Source    string    `json:"source"`
	Platform  string    `json:"platform"`
	Channel   string    `json:"channel"`
	MessageID string    `json:"message_id"`
	Time      time.Time `json:"time"`
}

// WriteNegatives writes the mentions of the not_request items among items
// as JSON Lines, one Negative a line (other items are skipped).
func WriteNegatives(w io.Writer, items []request.Item) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for _, it := range items {
		if it.Status != request.StatusNotRequest {
			continue
		}
		for _, m := range it.Mentions {
			if err := enc.Encode(Negative{Item: it.ID, Label: request.StatusNotRequest, Text: m.Text, Lang: m.Lang, Source: m.Source,
				Platform: m.Platform, Channel: m.Channel, MessageID: m.MessageID, Time: m.Time}); err != nil {
				return fmt.Errorf("inbox: write negatives: %w", err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("inbox: write negatives: %w", err)
	}
	return nil
}

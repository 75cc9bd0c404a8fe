package inbox

import (
	"context"
	"fmt"

	"github.com/einsatz/einsatz/bot/request"
)

// fileMaybe keeps a borderline detected request for staff to confirm: an
// item of its own in status maybe. It is not matched against open items
// (a borderline message should not add a vote to a real request), other
// requests never join it (it is not in the matching index), the webhooks
// do not hear of it and nobody is thanked.
func (s *Service) fileMaybe(ctx context.Context, m request.Mention) error {
	now := s.o.Clock.Now()
	it := request.Item{Title: request.Title(m.Text), Summary: request.Summary(m.Text), Status: request.StatusMaybe, Created: now, Updated: now}
	vote := request.Vote{Platform: m.Platform, UserID: m.UserID, Name: m.UserName, Time: m.Time}
	it, created, err := s.o.Store.Create(ctx, it, m, vote)
	if err != nil {
		return fmt.Errorf("inbox: keep a maybe: %w", err)
	}
	if created {
		s.o.Logger.Info("inbox: borderline request kept as maybe", "item", it.ID, "platform", m.Platform, "channel", m.Channel)
	}
	return nil
}

// ConfirmMaybe files a maybe as a request: it becomes new, collects
// requests from now on, and the webhooks hear of a new item. The member is
// not thanked now (the moment has passed) and no thread is posted in.
func (s *Service) ConfirmMaybe(ctx context.Context, id int, by string) (request.Item, error) {
	it, err := s.quietMove(ctx, id, by, request.StatusNew, EventNew, func(it *request.Item) error {
		if it.Status != request.StatusMaybe {
			return fmt.Errorf("%w: #%d is %s, not a maybe", ErrBadStatus, it.ID, it.Status)
		}
		return nil
	})
	if err == nil {
		s.o.Logger.Info("inbox: maybe confirmed as a request", "item", id)
	}
	return it, err
}

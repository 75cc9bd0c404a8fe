package inbox

import (
	"context"
	"fmt"
	"strings"

	"github.com/einsatz/einsatz/bot"
	"github.com/einsatz/einsatz/bot/request"
)

// notifyWords are the answers /notify understands, in English and German.
var notifyWords = map[string]bool{
	"on": true, "yes": true, "an": true, "ein": true, "ja": true,
	"off": false, "no": false, "aus": false, "nein": false,
}

// notifyCmd turns a person's status-change DMs on or off ("/notify on",
// "/notify off"); without an argument it says which it is now. Replies
// are notices for the person alone.
func (s *Service) notifyCmd(ctx context.Context, ev *bot.Event) ([]bot.Reply, error) {
	arg := strings.ToLower(strings.Trim(strings.TrimSpace(ev.Args), `"'.!`))
	on, known := notifyWords[arg]
	if !known {
		current, err := s.o.Store.OptedIn(ctx, ev.Platform, ev.User.ID)
		if err != nil {
			return nil, err
		}
		key := "notify_usage_off"
		if current {
			key = "notify_usage_on"
		}
		return []bot.Reply{{Text: s.text(ev.Lang, key), Notice: true}}, nil
	}
	if ev.User.ID == "" {
		return nil, fmt.Errorf("inbox: /notify without a user id on %s", ev.Platform)
	}
	if on && s.o.DirectMessenger == nil {
		return []bot.Reply{{Text: s.text(ev.Lang, "notify_unavailable"), Notice: true}}, nil
	}
	if err := s.o.Store.SetOptIn(ctx, ev.Platform, ev.User.ID, on, s.o.Clock.Now()); err != nil {
		return nil, err
	}
	key := "notify_off"
	if on {
		key = "notify_on"
	}
	s.o.Logger.Info("inbox: status DMs turned on or off", "on", on, "platform", ev.Platform)
	return []bot.Reply{{Text: s.text(ev.Lang, key), Notice: true}}, nil
}

// asker is one person who asked for an item, with the language they asked
// in (for their direct message).
type asker struct {
	platform, userID, lang string
}

// askers lists each distinct person who asked for an item (a mention or a
// vote), in the order they first asked; erased votes name nobody.
func askers(it request.Item) []asker {
	var out []asker
	seen := map[string]int{}
	add := func(platform, userID, lang string) {
		if platform == "" || userID == "" || strings.HasPrefix(userID, "erased-") {
			return
		}
		k := platform + "\x00" + userID
		if i, ok := seen[k]; ok {
			if out[i].lang == "" {
				out[i].lang = lang
			}
			return
		}
		seen[k] = len(out)
		out = append(out, asker{platform, userID, lang})
	}
	for _, m := range it.Mentions {
		add(m.Platform, m.UserID, m.Lang)
	}
	for _, v := range it.Votes {
		add(v.Platform, v.UserID, "")
	}
	return out
}

// directMessages sends one direct message about a status change to each
// person who asked for the item and opted in on that platform. The
// channels' daily cap does not apply (a DM floods no channel); a failure
// is logged and skipped. It returns how many went out.
func (s *Service) directMessages(ctx context.Context, it request.Item, ch request.Change) int {
	if s.o.DirectMessenger == nil {
		return 0
	}
	sent := 0
	for _, a := range askers(it) {
		ok, err := s.o.Store.OptedIn(ctx, a.platform, a.userID)
		if err != nil {
			s.o.Logger.Error("inbox: reading a DM opt-in", "item", it.ID, "platform", a.platform, "err", err)
			continue
		}
		if !ok {
			continue
		}
		if err := s.o.DirectMessenger.DirectMessage(ctx, a.platform, a.userID, bot.Reply{Text: s.statusDMText(a.lang, it, ch)}); err != nil {
			s.o.Logger.Warn("inbox: status DM failed", "item", it.ID, "platform", a.platform, "err", err)
			continue
		}
		sent++
	}
	if sent > 0 {
		s.o.Logger.Info("inbox: status DMs sent", "item", it.ID, "dms", sent)
	}
	return sent
}

// statusDMText is the direct message to a person who opted in.
func (s *Service) statusDMText(lang string, it request.Item, ch request.Change) string {
	t := s.text(lang, "status_dm",
		"{id}", fmt.Sprint(it.ID), "{title}", it.Title, "{status}", s.text(lang, "status_"+ch.To), "{note}", ch.Note)
	return strings.Join(strings.Fields(t), " ")
}

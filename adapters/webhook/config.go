package webhook

import (
	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/inbox"
)

// FromConfig are the research inbox's outgoing webhooks (inbox.webhooks,
// tried inbox.webhook_tries times each).
func FromConfig(in config.Inbox) []inbox.Notifier {
	hooks := make([]inbox.Notifier, 0, len(in.Webhooks))
	for _, h := range in.Webhooks {
		hooks = append(hooks, New(Options{URL: h.URL, Secret: h.Secret, Tries: uint(in.WebhookTries)}))
	}
	return hooks
}

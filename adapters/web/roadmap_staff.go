package web

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/einsatz/einsatz/bot/config"
)

// publicForm is the item page's roadmap form: shown on the public roadmap
// or not, and the public description.
func (h inboxPages) publicForm(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.fail(w, err)
		return
	}
	text := r.PostFormValue("public_text")
	if _, err := h.in.SetPublic(r.Context(), id, r.PostFormValue("public") == "on", &text, StaffName(r)); err != nil {
		h.fail(w, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("%s/%d?flash=%s", InboxPath, id, url.QueryEscape(tr(requestLang(r), "inbox.flash_public"))), http.StatusSeeOther)
}

// apiPublic is POST /api/admin/inbox/{id}/public {"public": bool,
// "description": "…"} (description left out: unchanged).
func (h inboxPages) apiPublic(w http.ResponseWriter, r *http.Request) {
	id, err := inboxID(r)
	if err != nil {
		h.apiFail(w, err)
		return
	}
	var body struct {
		Public      *bool   `json:"public"`
		Description *string `json:"description"`
	}
	if !decodeStrict(w, r, &body) {
		return
	}
	if body.Public == nil {
		jsonError(w, http.StatusBadRequest, `"public" (true or false) is required`)
		return
	}
	it, err := h.in.SetPublic(r.Context(), id, *body.Public, body.Description, StaffName(r))
	if err != nil {
		h.apiFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, it)
}

// RoadmapFromConfig builds the roadmap's sign-in providers from
// inbox.public_board_oauth: a provider without a client id is left out.
func RoadmapFromConfig(o config.BoardOAuth, publicURL string) RoadmapOptions {
	opts := RoadmapOptions{BaseURL: publicURL}
	if o.Discord.ClientID != "" {
		opts.Providers = append(opts.Providers, DiscordProvider(o.Discord.ClientID, o.Discord.ClientSecret, ""))
	}
	if o.Slack.ClientID != "" {
		opts.Providers = append(opts.Providers, SlackProvider(o.Slack.ClientID, o.Slack.ClientSecret, o.Slack.TeamID, ""))
	}
	return opts
}

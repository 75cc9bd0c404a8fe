package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// widgetJS serves /widget.js: the chat bubble other sites embed with
// <script src="https://bot.example.org/widget.js" defer></script>. It is
// the chat page's core (static/chatcore.js) with the bubble around it
// (static/widget.js), wrapped so it adds no globals to the host page, and
// carries a page token like the chat page, so it works with web.api_key
// set. Its calls are cross-origin: the host site's origin must be in
// web.cors_origins.
func (s *Server) widgetJS(w http.ResponseWriter, r *http.Request) {
	core, err1 := staticFS.ReadFile("static/chatcore.js")
	glue, err2 := staticFS.ReadFile("static/widget.js")
	if err1 != nil || err2 != nil {
		http.Error(w, "widget missing", http.StatusInternalServerError)
		return
	}
	lang := pageLang(r.Header.Get("Accept-Language"))
	t := chatTexts[lang]
	conf := map[string]any{
		"bot": s.opts.BotName,
		"texts": map[string]string{
			"error": t["error"], "busy": t["busy"], "staff": t["staff"], "edited": t["edited"], "placeholder": t["placeholder"],
			"send": t["send"], "intro": t["intro"], "typing": strings.ReplaceAll(t["typing"], "%s", s.opts.BotName),
			"open": t["open"], "close": t["close"],
		},
	}
	if s.opts.APIKey != "" {
		conf["token"] = s.pageToken(time.Now().Add(12 * time.Hour))
	}
	data, err := json.Marshal(conf)
	if err != nil {
		http.Error(w, "widget config", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	// Private and short: it carries a page token and the visitor's language.
	h.Set("Cache-Control", "private, max-age=3600")
	h.Add("Vary", "Accept-Language")
	var b strings.Builder
	b.WriteString("(function () {\n\"use strict\";\nvar EINSATZ_CONFIG = ")
	b.Write(data)
	b.WriteString(";\n")
	b.Write(core)
	b.WriteString("\n")
	b.Write(glue)
	b.WriteString("\n})();\n")
	_, _ = w.Write([]byte(b.String()))
}

package config

import (
	"cmp"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"
)

// Validate checks what decoding cannot: allowed values, URLs, ranges and
// settings that only make sense together. Parse calls it; it is exported for
// callers that build or modify a Config themselves. Each problem carries the
// line of its key, or of the enclosing section when the key is missing.
func (c *Config) Validate() []Problem {
	v := &validator{lines: c.lines}
	v.log(c.Log)
	v.storage(c.Storage)
	v.core(c.Core)
	v.web(c.Web)
	v.llm(c.LLM)
	v.discord(c.Discord)
	if c.Discord.Shards > 1 && !c.Cluster.On() {
		v.add("discord.shards", "is %d, but one machine runs one gateway session: shards are spread over the nodes of a cluster (cluster.mode embedded or external)", c.Discord.Shards)
	}
	v.slack(c.Slack)
	v.knowledge(c.Knowledge)
	if c.Solved.NudgeAfter < 0 || (c.Solved.NudgeAfter > 0 && c.Solved.NudgeAfter < time.Minute) {
		v.add("solved.nudge_after", "must be 0 (off) or at least 1m, got %s", c.Solved.NudgeAfter)
	}
	if _, _, _, err := ParseQuietHours(c.Solved, c.Handoff.Hours); err != nil {
		v.add("solved.quiet_hours", "%v", err)
	}
	for _, tags := range []struct {
		key   string
		names []string
	}{{"forum_tags", c.Solved.ForumTags}, {"open_tags", c.Solved.OpenTags}} {
		for i, name := range tags.names {
			if strings.IndexFunc(name, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) < 0 {
				v.add(fmt.Sprintf("solved.%s[%d]", tags.key, i), "must name a tag with letters (emoji and spaces are ignored), got %q", name)
			}
		}
	}
	v.staff(c.Staff)
	v.handoff(c.Handoff)
	v.sentiment(c.Sentiment)
	v.support(c.Support)
	v.inbox(c.Inbox)
	if c.CatchUp.Window < 0 || c.CatchUp.Window > 24*time.Hour {
		v.add("catchup.window", "must be a positive duration of at most 24h, got %s", c.CatchUp.Window)
	}
	v.channels(c.Channels)
	v.texts(c.Texts)
	v.cluster(c.Cluster)
	return v.problems
}

// platforms are the values accepted wherever a platform is named.
func platforms() []string { return []string{"discord", "slack", "web", "console"} }

type validator struct {
	lines    map[string]int
	problems []Problem
}

func (v *validator) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Line: lineOf(v.lines, path), Msg: fmt.Sprintf(format, args...)})
}

// lineOf returns the line of path, or of its nearest ancestor in the file.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if line, ok := lines[path]; ok {
			return line
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func (v *validator) oneOf(path, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		v.add(path, "must be one of %s, got %q", strings.Join(allowed, ", "), value)
	}
}

// httpURL checks that value is an absolute http(s) URL.
func (v *validator) httpURL(path, value, example string) bool {
	u, err := url.Parse(value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an absolute http(s) URL such as %s, got %q", example, value)
		return false
	}
	return true
}

func (v *validator) log(l Log) {
	v.oneOf("log.level", l.Level, "debug", "info", "warn", "error")
	v.oneOf("log.format", l.Format, "text", "json")
}

func (v *validator) storage(s Storage) {
	if s.Path == "" {
		v.add("storage.path", "must not be empty")
	}
	if s.MessageTTL <= 0 {
		v.add("storage.message_ttl", "must be a positive duration, got %s", s.MessageTTL)
	}
	if s.SeenTTL <= 0 {
		v.add("storage.seen_ttl", "must be a positive duration, got %s", s.SeenTTL)
	}
	for path, d := range map[string]time.Duration{"storage.sentiment_ttl": s.SentimentTTL, "storage.feedback_ttl": s.FeedbackTTL, "storage.audit_ttl": s.AuditTTL} {
		if d <= 0 {
			v.add(path, "must be a positive duration, got %s", d)
		}
	}
	if s.HistoryTurns < 1 {
		v.add("storage.history_turns", "must be at least 1, got %d", s.HistoryTurns)
	}
}

func (v *validator) core(c Core) {
	if c.Concurrency < 1 {
		v.add("core.concurrency", "must be at least 1, got %d", c.Concurrency)
	}
	if c.QueueSize < 1 {
		v.add("core.queue_size", "must be at least 1, got %d", c.QueueSize)
	}
	if c.ShutdownTimeout <= 0 {
		v.add("core.shutdown_timeout", "must be a positive duration, got %s", c.ShutdownTimeout)
	}
	if c.RateLimit.PerMinute < 0 {
		v.add("core.rate_limit.per_minute", "must be 0 (no limit) or more, got %g", c.RateLimit.PerMinute)
	}
	if c.RateLimit.Burst < 0 {
		v.add("core.rate_limit.burst", "must be 0 or more, got %d", c.RateLimit.Burst)
	}
}

func (v *validator) web(w Web) {
	_, port, err := net.SplitHostPort(w.Addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		v.add("web.addr", "must be host:port such as 127.0.0.1:8080 or :8080, got %q", w.Addr)
	}
	if w.PublicURL != "" {
		v.httpURL("web.public_url", w.PublicURL, "https://bot.example.org")
	}
	for i, o := range w.CORSOrigins {
		u, err := url.Parse(o)
		if o != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			v.add(fmt.Sprintf("web.cors_origins[%d]", i), "must be an origin such as https://example.org, or *, got %q", o)
		}
	}
	if w.ChatRateLimit.PerMinute < 0 || w.ChatRateLimit.Burst < 0 {
		v.add("web.chat_rate_limit", "values must be 0 or more")
	}
	for _, d := range []struct {
		path string
		val  time.Duration
	}{{"web.read_timeout", w.ReadTimeout}, {"web.write_timeout", w.WriteTimeout}, {"web.idle_timeout", w.IdleTimeout}} {
		if d.val < 0 {
			v.add(d.path, "must be positive, got %s", d.val)
		}
	}
	if w.MaxHeaderBytes < 0 {
		v.add("web.max_header_bytes", "must be positive, got %d", w.MaxHeaderBytes)
	}
	if w.MaxConnections < 0 {
		v.add("web.max_connections", "must be positive, got %d", w.MaxConnections)
	}
}

func (v *validator) llm(l LLM) {
	v.httpURL("llm.base_url", l.BaseURL, "https://api.openai.com/v1")
	if l.Enabled != nil && *l.Enabled && l.APIKey == "" && isOpenAI(l.BaseURL) {
		v.add("llm.api_key", "missing (set OPENAI_API_KEY): llm.enabled is true and base_url is OpenAI's, which needs a key")
	}
	if u, err := url.Parse(l.BaseURL); err == nil && u.Host != "" && !strings.Contains(u.Path, "/v1") && isOpenAI(l.BaseURL) {
		v.add("llm.base_url", "must include /v1, e.g. https://api.openai.com/v1, got %q", l.BaseURL)
	}
	if strings.TrimSpace(l.Persona) == "" {
		v.add("llm.persona", "must not be empty")
	}
	if l.Temperature < 0 || l.Temperature > 2 {
		v.add("llm.temperature", "must be between 0 and 2, got %g", l.Temperature)
	}
	if l.MinSimilarity < 0 || l.MinSimilarity > 1 {
		v.add("llm.min_similarity", "must be between 0 and 1, got %g", l.MinSimilarity)
	}
	if l.MaxTokens < 1 {
		v.add("llm.max_tokens", "must be at least 1, got %d", l.MaxTokens)
	}
	if l.Timeout <= 0 {
		v.add("llm.timeout", "must be a positive duration, got %s", l.Timeout)
	}
	if l.MaxRetries < 0 || l.MaxRetries > 10 {
		v.add("llm.max_retries", "must be between 0 and 10, got %d", l.MaxRetries)
	}
	if l.HistoryTokens < 1 {
		v.add("llm.history_tokens", "must be at least 1, got %d", l.HistoryTokens)
	}
	if l.MaxConcurrent < 1 || l.MaxConcurrent > 1024 {
		v.add("llm.max_concurrent", "must be between 1 and 1024, got %d", l.MaxConcurrent)
	}
	if l.Breaker.Failures < 1 {
		v.add("llm.breaker.failures", "must be at least 1, got %d", l.Breaker.Failures)
	}
	if l.Breaker.Cooldown <= 0 {
		v.add("llm.breaker.cooldown", "must be a positive duration, got %s", l.Breaker.Cooldown)
	}
}

func (v *validator) discord(d Discord) {
	v.httpURL("discord.api_url", d.APIURL, "https://discord.com/")
	if d.Shards < 0 {
		v.add("discord.shards", "must be 0 (what Discord recommends) or a shard count, got %d", d.Shards)
	}
	if d.IdentifyReserve < 0 {
		v.add("discord.identify_reserve", "must not be negative (0 takes the default, 50), got %d", d.IdentifyReserve)
	}
}

func (v *validator) slack(s Slack) {
	if v.httpURL("slack.api_url", s.APIURL, "https://slack.com/api/") && !strings.HasSuffix(s.APIURL, "/") {
		// Method names are appended directly, so a missing slash breaks every call.
		v.add("slack.api_url", "must end with \"/\", e.g. https://slack.com/api/")
	}
	v.oneOf("slack.mode", s.Mode, "socket", "http")
	if !s.On() {
		return
	}

	missing := func(key, env, why string) {
		v.add("slack."+key, "missing (set %s): %s", env, why)
	}
	switch s.Mode {
	case "socket":
		if s.BotToken == "" {
			missing("bot_token", "SLACK_BOT_TOKEN", "socket mode needs bot_token and app_token")
		}
		if s.AppToken == "" {
			missing("app_token", "SLACK_APP_TOKEN", "socket mode needs bot_token and app_token")
		}
	case "http":
		if s.BotToken == "" {
			missing("bot_token", "SLACK_BOT_TOKEN", "http mode needs bot_token and signing_secret")
		}
		if s.SigningSecret == "" {
			missing("signing_secret", "SLACK_SIGNING_SECRET", "http mode needs bot_token and signing_secret")
		}
	}

	// Token values are secrets: messages name their prefixes only.
	if strings.HasPrefix(s.BotToken, "xapp-") && strings.HasPrefix(s.AppToken, "xoxb-") {
		v.add("slack.bot_token", "bot_token and app_token are swapped: "+
			"SLACK_BOT_TOKEN holds the app token (xapp-) and SLACK_APP_TOKEN the bot token (xoxb-); exchange them")
		return
	}
	switch {
	case s.BotToken == "" || strings.HasPrefix(s.BotToken, "xoxb-"):
	case strings.HasPrefix(s.BotToken, "xapp-"):
		v.add("slack.bot_token", "SLACK_BOT_TOKEN holds an app token (xapp-); it belongs in SLACK_APP_TOKEN. "+
			"The bot token starts with xoxb- (OAuth & Permissions page)")
	case strings.HasPrefix(s.BotToken, "xoxp-"):
		v.add("slack.bot_token", "SLACK_BOT_TOKEN holds a user token (xoxp-); use the bot token, which starts with xoxb-")
	default:
		v.add("slack.bot_token", "must start with xoxb- (the Bot User OAuth Token)")
	}
	switch {
	case s.AppToken == "" || strings.HasPrefix(s.AppToken, "xapp-"):
	case strings.HasPrefix(s.AppToken, "xoxb-"):
		v.add("slack.app_token", "SLACK_APP_TOKEN holds a bot token (xoxb-); it belongs in SLACK_BOT_TOKEN. "+
			"The app token starts with xapp- (Basic Information → App-Level Tokens)")
	default:
		v.add("slack.app_token", "must start with xapp- (an App-Level Token with the connections:write scope)")
	}
}

func (v *validator) knowledge(k Knowledge) {
	for path, u := range k.BaseURLs {
		if !slices.Contains(k.Paths, path) {
			v.add("knowledge.base_urls", "%q is not one of knowledge.paths", path)
		}
		v.httpURL("knowledge.base_urls", u, "https://github.com/you/project/blob/main/docs/")
	}
	if k.PublicURL != "" {
		v.httpURL("knowledge.public_url", k.PublicURL, "https://help.example.org")
	}
	if k.MinConfidence < 0 || k.MinConfidence > 1 {
		v.add("knowledge.min_confidence", "must be between 0 and 1, got %g", k.MinConfidence)
	}
	for i, p := range k.Paths {
		if p == "" {
			v.add(fmt.Sprintf("knowledge.paths[%d]", i), "must not be empty")
		}
	}
	seen := map[string]int{}
	for i, src := range k.Sources {
		path := fmt.Sprintf("knowledge.sources[%d]", i)
		key := src.Type + " " + src.URL + " " + src.Branch + " " + src.Path
		if first, dup := seen[key]; dup {
			v.add(path, "same source as knowledge.sources[%d]", first)
		}
		seen[key] = i
		if src.Every < time.Minute {
			v.add(path+".every", "must be at least 1m, got %s", src.Every)
		}
		switch src.Type {
		case "website":
			v.websiteSource(path, src)
		case "git":
			v.gitSource(path, src)
		default:
			v.add(path+".type", "must be one of website, git, got %q", src.Type)
		}
	}
}

func (v *validator) websiteSource(path string, src KnowledgeSource) {
	if src.URL == "" {
		v.add(path+".url", "missing: the docs site's start page, e.g. https://docs.example.org/")
	} else {
		v.httpURL(path+".url", src.URL, "https://docs.example.org/")
	}
	if src.Sitemap != "" {
		v.httpURL(path+".sitemap", src.Sitemap, "https://docs.example.org/sitemap.xml")
	}
	for j, p := range src.Include {
		if !strings.HasPrefix(p, "/") {
			v.add(fmt.Sprintf("%s.include[%d]", path, j), "must be a URL path starting with /, e.g. /docs/, got %q", p)
		}
	}
	for j, p := range src.Exclude {
		if !strings.HasPrefix(p, "/") {
			v.add(fmt.Sprintf("%s.exclude[%d]", path, j), "must be a URL path starting with /, e.g. /docs/old/, got %q", p)
		}
	}
	if src.Delay < 0 {
		v.add(path+".delay", "must not be negative, got %s", src.Delay)
	}
	if src.MaxPages < 1 {
		v.add(path+".max_pages", "must be at least 1, got %d", src.MaxPages)
	}
	if src.MaxBytes < 1024 {
		v.add(path+".max_bytes", "must be at least 1024, got %d", src.MaxBytes)
	}
	v.onlyFor(path, "git", []string{"branch", "path", "base_url"}, []bool{src.Branch != "", src.Path != "", src.BaseURL != ""})
}

func (v *validator) gitSource(path string, src KnowledgeSource) {
	switch u := src.URL; {
	case u == "":
		v.add(path+".url", "missing: the repository, e.g. https://github.com/you/project.git")
	case strings.HasPrefix(u, "/"), strings.HasPrefix(u, "file://"), strings.HasPrefix(u, "ssh://"),
		strings.Contains(u, "@") && strings.Contains(u, ":") && !strings.Contains(u, "://"): // git@host:owner/repo
	default:
		v.httpURL(path+".url", u, "https://github.com/you/project.git")
	}
	if src.BaseURL != "" {
		v.httpURL(path+".base_url", src.BaseURL, "https://github.com/you/project/blob/main/docs/")
	}
	if strings.HasPrefix(src.Path, "/") || strings.Contains("/"+src.Path+"/", "/../") {
		v.add(path+".path", "must be a folder inside the repository such as docs, got %q", src.Path)
	}
	v.onlyFor(path, "website", []string{"sitemap", "include", "exclude", "delay", "max_pages", "max_bytes"},
		[]bool{src.Sitemap != "", len(src.Include) > 0, len(src.Exclude) > 0, src.Delay != 0, src.MaxPages != 0, src.MaxBytes != 0})
}

// onlyFor reports the fields set (set[i] for fields[i]) that belong to
// another type of source.
func (v *validator) onlyFor(path, typ string, fields []string, set []bool) {
	for i, f := range fields {
		if set[i] {
			v.add(path+"."+f, "only for type %s", typ)
		}
	}
}

// minTokenLen is the shortest staff token accepted: a token is a password
// that is never hashed, and the login form is open to the network.
const minTokenLen = 16

func (v *validator) staff(s Staff) {
	ch := s.Channel
	switch {
	case ch.Platform == "" && ch.ID == "":
		// No alert channel: allowed.
	case ch.Platform == "":
		v.add("staff.channel.platform", "missing: set it together with staff.channel.id (one of %s)", strings.Join(platforms(), ", "))
	case ch.ID == "":
		v.add("staff.channel.id", "missing: set it together with staff.channel.platform")
	default:
		v.oneOf("staff.channel.platform", ch.Platform, platforms()...)
	}

	names := map[string]int{}
	tokens := map[string]int{}
	for i, a := range s.Web {
		path := fmt.Sprintf("staff.web[%d]", i)
		if a.Name == "" {
			v.add(path+".name", "missing: every web account needs a name")
		} else if first, dup := names[a.Name]; dup {
			v.add(path+".name", "duplicate account name %q (also staff.web[%d])", a.Name, first)
		} else {
			names[a.Name] = i
		}
		v.oneOf(path+".role", a.Role, "admin", "staff")
		switch {
		case a.Token != "" && a.PasswordHash != "":
			v.add(path, "set either token or password_hash, not both")
		case a.Token == "" && a.PasswordHash == "":
			v.add(path, "needs a token (from the environment, e.g. ${EINSATZ_WEB_TOKEN_<NAME>}) or a password_hash")
		}
		if a.Token != "" && len(a.Token) < minTokenLen {
			v.add(path+".token", "too short: %d characters, needs at least %d (e.g. openssl rand -base64 24)", len(a.Token), minTokenLen)
		}
		if a.PasswordHash != "" && a.Token == "" {
			if _, err := bcrypt.Cost([]byte(a.PasswordHash)); err != nil || !strings.HasPrefix(a.PasswordHash, "$2") {
				v.add(path+".password_hash", "must be a bcrypt hash ($2a$, $2b$ or $2y$…, e.g. from htpasswd -nbBC 10 NAME PASSWORD)")
			}
		}
		if a.Avatar != "" {
			if u, err := url.Parse(a.Avatar); err != nil || u.Scheme != "https" || u.Host == "" {
				v.add(path+".avatar", "must be an https URL of a picture, got %q", a.Avatar)
			}
		}
		if a.Token != "" {
			if first, dup := tokens[a.Token]; dup {
				v.add(path+".token", "same token as staff.web[%d]: every account needs its own", first)
			} else {
				tokens[a.Token] = i
			}
		}
	}
}

func (v *validator) channels(c Channels) {
	policies := []string{PolicyListen, PolicyMention, PolicyAuto}
	v.oneOf("channels.default", c.Default, policies...)
	seen := map[ChannelRef]int{}
	for i, o := range c.Overrides {
		path := fmt.Sprintf("channels.overrides[%d]", i)
		if o.Platform == "" {
			v.add(path+".platform", "missing: one of %s", strings.Join(platforms(), ", "))
		} else {
			v.oneOf(path+".platform", o.Platform, platforms()...)
		}
		if o.ID == "" {
			v.add(path+".id", "missing: the channel ID")
		}
		if o.Policy != "" {
			v.oneOf(path+".policy", o.Policy, policies...)
		}
		ref := ChannelRef{Platform: o.Platform, ID: o.ID}
		if first, dup := seen[ref]; dup && o.ID != "" {
			// Only the first would ever apply.
			v.add(path, "duplicate override for %s channel %q (also channels.overrides[%d])", o.Platform, o.ID, first)
		} else if !dup {
			seen[ref] = i
		}
	}
}

// texts rejects unknown text keys: a misspelt key would silently leave the
// built-in text in place.
func (v *validator) texts(t Texts) {
	known := textKeys()
	for _, lang := range []struct {
		name  string
		texts map[string]string
	}{{"en", t.EN}, {"de", t.DE}} {
		m := lang.texts
		keys := make([]string, 0, len(m))
		for key := range m {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			if !slices.Contains(known, key) {
				v.add("texts."+lang.name+"."+key, "unknown text key%s; known keys: %s", suggest(key, known), strings.Join(known, ", "))
			}
		}
	}
}

var weekdays = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// ParseHours turns configured working hours into a location, days and
// times since midnight.
func ParseHours(h Hours) (loc *time.Location, days map[time.Weekday]bool, from, to time.Duration, err error) {
	loc, err = time.LoadLocation(h.Timezone)
	if err != nil || h.Timezone == "" {
		return nil, nil, 0, 0, fmt.Errorf("timezone: want an IANA name such as Europe/Berlin, got %q", h.Timezone)
	}
	days = map[time.Weekday]bool{}
	for _, d := range h.Days {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			return nil, nil, 0, 0, fmt.Errorf("days: %q is not one of mon, tue, wed, thu, fri, sat, sun", d)
		}
		days[wd] = true
	}
	if len(days) == 0 {
		return nil, nil, 0, 0, fmt.Errorf("days: list at least one day, e.g. [mon, tue, wed, thu, fri]")
	}
	clock := func(name, s string) (time.Duration, error) {
		t, err := time.Parse("15:04", s)
		if err != nil {
			return 0, fmt.Errorf("%s: want HH:MM such as 09:00, got %q", name, s)
		}
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
	}
	if from, err = clock("from", h.From); err != nil {
		return nil, nil, 0, 0, err
	}
	if to, err = clock("to", h.To); err != nil {
		return nil, nil, 0, 0, err
	}
	if from >= to {
		return nil, nil, 0, 0, fmt.Errorf("from %s must be before to %s", h.From, h.To)
	}
	return loc, days, from, to, nil
}

func (v *validator) handoff(h Handoff) {
	if h.SLA < 0 {
		v.add("handoff.sla", "must be 0 (no SLA clock) or more, got %s", h.SLA)
	}
	if _, err := ParsePercent(h.SLAWarnAt); err != nil {
		v.add("handoff.sla_warn_at", "%v", err)
	}
	if h.ReleaseAfter < 0 {
		v.add("handoff.release_after", "must be 0 (never) or more, got %s", h.ReleaseAfter)
	}
	if h.Hours.Set() {
		if _, _, _, _, err := ParseHours(h.Hours); err != nil {
			v.add("handoff.hours", "%v", err)
		}
	}
	for i, w := range h.Sensitive {
		if strings.TrimSpace(w) == "" {
			v.add(fmt.Sprintf("handoff.sensitive[%d]", i), "is empty")
		}
	}
}

func (v *validator) inbox(in Inbox) {
	for path, f := range map[string]float64{"inbox.threshold": in.Threshold, "inbox.similar": in.Similar, "inbox.similar_embedding": in.SimilarEmbedding, "inbox.borderline": in.Borderline} {
		if f <= 0 || f > 1 {
			v.add(path, "must be between 0 and 1, got %g", f)
		}
	}
	if f := in.AutoFileThreshold; f < 0 || f > 1 {
		v.add("inbox.auto_file_threshold", "must be between 0 and 1 (0: the detector's own), got %g", f)
	}
	for i, w := range in.Webhooks {
		path := fmt.Sprintf("inbox.webhooks[%d]", i)
		v.httpURL(path+".url", w.URL, "https://tracker.example.org/hooks/einsatz")
		if w.Secret == "" {
			v.add(path+".secret", "missing: set a secret (from the environment, e.g. ${EINSATZ_WEBHOOK_SECRET}) so the receiver can check the signature")
		}
	}
	if !in.PublicBoard {
		return
	}
	o := in.PublicBoardOAuth
	for _, c := range []struct{ path, id, secret, env string }{
		{"inbox.public_board_oauth.discord", o.Discord.ClientID, o.Discord.ClientSecret, "EINSATZ_DISCORD_OAUTH_SECRET"},
		{"inbox.public_board_oauth.slack", o.Slack.ClientID, o.Slack.ClientSecret, "EINSATZ_SLACK_OAUTH_SECRET"},
	} {
		if c.id != "" && c.secret == "" {
			v.add(c.path+".client_secret", "missing: set it from the environment (${%s})", c.env)
		}
		if c.id == "" && c.secret != "" {
			v.add(c.path+".client_id", "missing: the secret is set but no client id")
		}
	}
}

func (v *validator) support(s Support) {
	if s.Similarity <= 0 || s.Similarity > 1 {
		v.add("support.similarity", "must be between 0 and 1, got %g", s.Similarity)
	}
	if s.FollowUp < 0 {
		v.add("support.follow_up", "must be a positive duration, got %s", s.FollowUp)
	}
}

func (v *validator) sentiment(s Sentiment) {
	if s.AlertMargin <= 0 || s.AlertMargin >= 1 {
		v.add("sentiment.alert_margin", "must be between 0 and 1 (a share), got %g", s.AlertMargin)
	}
	if s.AlertMinMessages < 1 {
		v.add("sentiment.alert_min_messages", "must be at least 1, got %d", s.AlertMinMessages)
	}
	if s.StrongNegative < -1 || s.StrongNegative >= 0 {
		v.add("sentiment.strong_negative", "must be a score from -1 up to (not including) 0, got %g", s.StrongNegative)
	}
}

// ParsePercent reads a share given as a percentage from 1% to 100%
// ("80%", "80 %", "12.5%") and returns it as a fraction (0.8).
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("want a percentage such as \"80%%\", got %q", s)
	}
	p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(p) {
		return 0, fmt.Errorf("want a percentage such as \"80%%\", got %q", s)
	}
	if p < 1 || p > 100 {
		return 0, fmt.Errorf("must be from 1%% to 100%%, got %q", s)
	}
	return p / 100, nil
}

// ParseQuietHours reads solved.quiet_hours ("22:00-08:00") and its zone
// (solved.timezone, else handoff.hours.timezone, else UTC) into a location
// and the start and end as times since midnight; loc is nil when no quiet
// hours are set.
func ParseQuietHours(s Solved, staff Hours) (loc *time.Location, from, to time.Duration, err error) {
	if strings.TrimSpace(s.QuietHours) == "" {
		return nil, 0, 0, nil
	}
	a, b, ok := strings.Cut(strings.ReplaceAll(s.QuietHours, " ", ""), "-")
	clock := func(x string) (time.Duration, bool) {
		t, err := time.Parse("15:04", x)
		return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, err == nil
	}
	from, okFrom := clock(a)
	to, okTo := clock(b)
	if !ok || !okFrom || !okTo || from == to {
		return nil, 0, 0, fmt.Errorf("want two different times HH:MM-HH:MM such as 22:00-08:00, got %q", s.QuietHours)
	}
	tz := cmp.Or(s.Timezone, staff.Timezone, "UTC")
	if loc, err = time.LoadLocation(tz); err != nil {
		return nil, 0, 0, fmt.Errorf("timezone: want an IANA name such as Europe/Berlin, got %q", tz)
	}
	return loc, from, to, nil
}

package config

import "strings"

// Texts overrides the bot's fixed replies per language. Placeholders such as
// {bot} or {id} are left for the caller to replace.
type Texts struct {
	EN map[string]string `yaml:"en"`
	DE map[string]string `yaml:"de"`
}

// Keys of the bot's fixed replies.
const (
	TextGreeting = "greeting"  // placeholder {bot}
	TextDontKnow = "dont_know" // nothing relevant in the knowledge base
	// TextDontKnowPart is the line about one of several questions in a
	// message that the knowledge base does not cover; placeholder {question}.
	TextDontKnowPart = "dont_know_part"
	TextSources      = "sources"      // label in front of source links
	TextRateLimited  = "rate_limited" // user exceeded core.rate_limit
	TextTakeover     = "takeover"     // a team member took over the thread
	TextRelease      = "release"      // the team member handed the thread back
	TextError        = "error"        // something failed internally
	TextFeatureAck   = "feature_ack"  // placeholder {id}
	// TextLLMUnavailable goes in front of the extractive answer while the
	// language model is failing.
	TextLLMUnavailable = "llm_unavailable"
	TextHandoffButton  = "handoff_button" // label of the "Talk to a human" button
	TextStaffOnly      = "staff_only"     // a member tried a staff command
	TextHandoffAsked   = "handoff_asked"  // the user asked for a person; staff are told
	// TextFrustration answers a complaint: empathy, and staff are told.
	TextFrustration = "handoff_frustration"
	TextWelcome     = "welcome" // the answer to thanks
	// TextHandoffAfterHours answers a request for a person outside
	// handoff.hours; placeholder {when}.
	TextHandoffAfterHours = "handoff_after_hours"
	TextForgetMeConfirm   = "forget_me_confirm"   // /forget-me asks before it deletes
	TextForgetMeDone      = "forget_me_done"      // the member's data is gone
	TextForgetMeCancelled = "forget_me_cancelled" // they changed their mind
	TextForgetMeExpired   = "forget_me_expired"   // the confirmation came too late
	// TextStaffMark follows a staff member's name on a reply relayed into
	// a member's thread ("anna (staff)"), in the thread's language.
	TextStaffMark = "staff_mark"
)

// textKeys lists every text key, in the order config.yaml documents them.
func textKeys() []string {
	return []string{
		TextGreeting, TextDontKnow, TextDontKnowPart, TextSources, TextRateLimited, TextTakeover,
		TextRelease, TextError, TextFeatureAck, TextLLMUnavailable, TextHandoffButton,
		TextStaffOnly, TextHandoffAsked, TextHandoffAfterHours, TextFrustration, TextWelcome,
		TextForgetMeConfirm, TextForgetMeDone, TextForgetMeCancelled, TextForgetMeExpired, TextStaffMark,
	}
}

// builtinText returns the shipped reply for a key in English and German, or
// empty strings for an unknown key. It is a function rather than a package
// map so that nothing can change the defaults at run time.
func builtinText(key string) (en, de string) {
	switch key {
	case TextGreeting:
		return "Hi! I'm {bot}. Ask me anything about the project.",
			"Hi! Ich bin {bot}. Frag mich gern alles rund um das Projekt."
	case TextDontKnow:
		return "I don't know the answer to that yet — I couldn't find it in the knowledge base. " +
				"A team member can help: they'll see your question here.",
			"Darauf weiß ich noch keine Antwort – in der Wissensdatenbank habe ich nichts dazu gefunden. " +
				"Ein Teammitglied kann dir helfen: Deine Frage ist hier für das Team sichtbar."
	case TextDontKnowPart:
		return "I don't know about “{question}” yet — a team member can help with that.",
			"Zu „{question}“ weiß ich noch keine Antwort – ein Teammitglied kann dir dabei helfen."
	case TextSources:
		return "Source", "Quelle"
	case TextRateLimited:
		return "You're sending messages faster than I can answer; I'll skip some for a moment.",
			"Du schickst Nachrichten schneller, als ich antworten kann – ich lasse kurz ein paar aus."
	case TextTakeover:
		return "A team member has joined; I'll step back.",
			"Ein Teammitglied ist jetzt da – ich halte mich zurück."
	case TextRelease:
		return "I'm back — ask me anything.",
			"Ich bin wieder da – frag mich gern alles."
	case TextError:
		return "Sorry, something went wrong on my side and I can't answer right now. Please try again in a few minutes.",
			"Entschuldige, bei mir ist gerade etwas schiefgegangen und ich kann nicht antworten. Versuch es bitte in ein paar Minuten noch einmal."
	case TextFeatureAck:
		return "Thanks! I've passed this to the product team as #{id}.",
			"Danke! Ich habe das als #{id} an das Produktteam weitergegeben."
	case TextLLMUnavailable:
		return "The AI assistant is unavailable right now; here is the closest passage from the docs.",
			"Der KI-Assistent ist gerade nicht erreichbar; hier ist die passendste Stelle aus der Dokumentation."
	case TextForgetMeConfirm:
		return "This deletes everything I keep about you: your messages, their sentiment scores and your feedback. Feature requests you made keep counting as votes, without your name or words. Sure? (Without buttons: /forget-me confirm)",
			"Damit lösche ich alles, was ich über dich gespeichert habe: deine Nachrichten, ihre Stimmungswerte und dein Feedback. Deine Funktionswünsche zählen weiter als Stimmen, ohne deinen Namen und deine Worte. Sicher? (Ohne Buttons: /forget-me confirm)"
	case TextForgetMeDone:
		return "Done: I've deleted everything I kept about you.",
			"Erledigt: Ich habe alles gelöscht, was ich über dich gespeichert hatte."
	case TextForgetMeCancelled:
		return "Okay, nothing was deleted.",
			"Alles klar, es wurde nichts gelöscht."
	case TextForgetMeExpired:
		return "That confirmation came too late; nothing was deleted. Send /forget-me again.",
			"Die Bestätigung kam zu spät; es wurde nichts gelöscht. Schick /forget-me noch einmal."
	case TextStaffOnly:
		return "Only team members can do that.",
			"Das können nur Teammitglieder."
	case TextFrustration:
		return "I'm sorry this has been frustrating. I've asked the team to look at this conversation; someone will reply here.",
			"Das tut mir leid – ich habe das Team gebeten, sich dieses Gespräch anzusehen; jemand meldet sich hier bei dir."
	case TextWelcome:
		return "You're welcome!", "Gern geschehen!"
	case TextHandoffAsked:
		return "I've asked the team to join this conversation; someone will reply here soon.",
			"Ich habe das Team gebeten, dazuzukommen; gleich antwortet dir hier jemand."
	case TextHandoffAfterHours:
		return "I've passed this to the team. They're not around right now and will reply here from {when}.",
			"Ich habe das ans Team weitergegeben. Gerade ist niemand da; ab {when} antwortet dir hier jemand."
	case TextHandoffButton:
		return "Talk to a human", "Mit einem Menschen sprechen"
	case TextStaffMark:
		// German communities mark their people as "Team" (Discord roles,
		// forum badges); "Support" would read as a company helpdesk.
		return "staff", "Team"
	}
	return "", ""
}

// Get returns the text for key in lang. German looks at the configured
// German text, the built-in German text, then falls back to English; any
// other language uses the configured, then the built-in English text. An
// empty configured value counts as unset, since an unset ${VAR} yields one.
// An unknown key gives "".
func (t Texts) Get(lang, key string) string {
	builtinEN, builtinDE := builtinText(key)
	if baseLang(lang) == "de" {
		if s := t.DE[key]; s != "" {
			return s
		}
		if builtinDE != "" {
			return builtinDE
		}
	}
	if s := t.EN[key]; s != "" {
		return s
	}
	return builtinEN
}

// baseLang reduces a language tag such as "de-AT" or "DE_de" to "de".
func baseLang(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}

// Text is the text for key in lang with {bot} replaced by bot.name: what
// the core and the features post.
func (c *Config) Text(lang, key string) string {
	return strings.ReplaceAll(c.Texts.Get(lang, key), "{bot}", c.Bot.Name)
}

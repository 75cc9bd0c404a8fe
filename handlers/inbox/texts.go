package inbox

import "strings"

// TextKeys lists every community-facing text the inbox uses; config can
// override each per language.
var TextKeys = []string{
	"feature_ack", "feature_ack_others", "feature_vote_button", "feature_voted", "feature_voted_already",
	"feature_vote_gone", "feature_forwarded", "feature_forwarded_already", "feature_forward_empty",
	"feedback_empty", "status_changed", "status_dm",
	"notify_on", "notify_off", "notify_usage_on", "notify_usage_off", "notify_unavailable",
	"status_new", "status_under_review", "status_planned", "status_in_progress", "status_shipped",
	"status_declined", "status_duplicate",
}

// DefaultText is the built-in English or German text for a key ("" for an
// unknown key). German is used for "de" and "de-*"; everything else gets
// English.
func DefaultText(lang, key string) string {
	en, de := defaultText(key)
	if strings.HasPrefix(strings.ToLower(lang), "de") && de != "" {
		return de
	}
	return en
}

func defaultText(key string) (en, de string) {
	switch key {
	case "feature_ack":
		return "Thanks! I've passed this to the product team as #{id}.",
			"Danke! Ich habe das als #{id} an das Produktteam weitergegeben."
	case "feature_ack_others":
		return "Thanks! I've passed this to the product team as #{id} ({others} others asked for this too).",
			"Danke! Ich habe das als #{id} an das Produktteam weitergegeben ({others} andere wünschen sich das auch)."
	case "feature_vote_button":
		return "+1", "+1"
	case "feature_voted":
		return "Thanks, your +1 for #{id} is counted ({votes} votes).",
			"Danke, dein +1 für #{id} ist gezählt ({votes} Stimmen)."
	case "feature_voted_already":
		return "You have already voted for #{id}.", "Du hast für #{id} schon abgestimmt."
	case "feature_vote_gone":
		return "I can't find #{id} in the research inbox any more.", "#{id} finde ich im Research-Posteingang nicht mehr."
	case "feature_forwarded":
		return "Sent to the research inbox as #{id}.", "Als #{id} an den Research-Posteingang geschickt."
	case "feature_forwarded_already":
		return "That message is already in the research inbox as #{id}.", "Diese Nachricht liegt schon als #{id} im Research-Posteingang."
	case "feature_forward_empty":
		return "I can't read that message, so I couldn't forward it.", "Diese Nachricht kann ich nicht lesen, deshalb konnte ich sie nicht weiterleiten."
	case "feedback_empty":
		return "Write your idea after the command, e.g. /feedback dark mode for the dashboard.",
			"Schreib deine Idee hinter den Befehl, z. B. /feedback Dunkelmodus fürs Dashboard."
	case "status_changed":
		return "Update on #{id} \"{title}\": {status}. {note} {mentions}",
			"Neuigkeiten zu #{id} „{title}“: {status}. {note} {mentions}"
	case "status_dm":
		return "Update on your feature request #{id} \"{title}\": {status}. {note} (Turn these messages off with /notify off.)",
			"Neuigkeiten zu deinem Wunsch #{id} „{title}“: {status}. {note} (Abschalten mit /notify off.)"
	case "notify_on":
		return "Done: I'll send you a direct message when a feature request you asked for changes status. Stop with /notify off.",
			"Erledigt: Ich schicke dir eine Direktnachricht, wenn sich der Status eines Wunsches ändert, den du geäußert hast. Abschalten mit /notify off."
	case "notify_off":
		return "Done: no more direct messages about your feature requests.",
			"Erledigt: keine Direktnachrichten mehr zu deinen Wünschen."
	case "notify_usage_on":
		return "You get a direct message when a feature request you asked for changes status. Use /notify off to stop.",
			"Du bekommst eine Direktnachricht, wenn sich der Status eines deiner Wünsche ändert. Mit /notify off schaltest du das ab."
	case "notify_usage_off":
		return "Use /notify on to get a direct message when a feature request you asked for changes status.",
			"Mit /notify on bekommst du eine Direktnachricht, wenn sich der Status eines deiner Wünsche ändert."
	case "notify_unavailable":
		return "Direct messages about feature requests are not available here.",
			"Direktnachrichten zu Wünschen gibt es hier nicht."
	case "status_new":
		return "new", "neu"
	case "status_under_review":
		return "under review", "wird geprüft"
	case "status_planned":
		return "planned", "geplant"
	case "status_in_progress":
		return "in progress", "in Arbeit"
	case "status_shipped":
		return "shipped", "veröffentlicht"
	case "status_declined":
		return "declined", "abgelehnt"
	case "status_duplicate":
		return "merged into another request", "mit einem anderen Wunsch zusammengeführt"
	}
	return "", ""
}

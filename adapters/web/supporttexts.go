package web

// supportTexts are the Support page's words (keys "support.…").
var supportTexts = translations{
	"en": {
		"support.page_title": "Support", "support.since": "Since", "support.show": "Show",
		"support.since.7d": "7 days", "support.since.30d": "30 days", "support.since.12w": "12 weeks", "support.since.52w": "a year",
		"support.week": "Week", "support.channel": "Channel", "support.questions": "Questions", "support.answered": "Answered",
		"support.dont_know": "“I don't know”", "support.escalated": "Escalated", "support.rated": "Rated", "support.helpful_rate": "Helpful rate",
		"support.resolved_vote": "Resolved by helpful vote", "support.no_follow_up": "No follow-up within", "support.unresolved": "Unresolved",
		"support.pending": "Pending", "support.shadow": "Shadow drafts (discarded)", "support.none": "No questions in this period.",
		"support.note1":            "Resolution is counted honestly and never lumped together:",
		"support.resolved_vote_em": "resolved by helpful vote",
		"support.note2":            "means the asker (or, without their vote, most voters) rated the answer helpful;",
		"support.no_follow_up_em":  "no follow-up",
		"support.note3":            "means nobody rated it and the asker asked nothing more in the thread within",
		"support.note4":            " — silence, which is not proof of success;",
		"support.unresolved_em":    "unresolved", "support.note5": "means rated not helpful, or followed by another question;",
		"support.pending_em": "pending", "support.note6": "means the window is still open.",
	},
	"de": {
		"support.page_title": "Support", "support.since": "Zeitraum", "support.show": "Anzeigen",
		"support.since.7d": "7 Tage", "support.since.30d": "30 Tage", "support.since.12w": "12 Wochen", "support.since.52w": "ein Jahr",
		"support.week": "Woche", "support.channel": "Kanal", "support.questions": "Fragen", "support.answered": "Beantwortet",
		"support.dont_know": "„Weiß ich nicht“", "support.escalated": "Eskaliert", "support.rated": "Bewertet", "support.helpful_rate": "Anteil hilfreich",
		"support.resolved_vote": "Gelöst laut Bewertung", "support.no_follow_up": "Keine Nachfrage binnen", "support.unresolved": "Ungelöst",
		"support.pending": "Offen", "support.shadow": "Schattenentwürfe (verworfen)", "support.none": "Keine Fragen in diesem Zeitraum.",
		"support.note1":            "Gelöst wird ehrlich gezählt und nie zusammengeworfen:",
		"support.resolved_vote_em": "gelöst laut Bewertung",
		"support.note2":            "heißt, die fragende Person (oder ohne ihre Stimme die Mehrheit) fand die Antwort hilfreich;",
		"support.no_follow_up_em":  "keine Nachfrage",
		"support.note3":            "heißt, niemand hat bewertet und die fragende Person hat im Thread nichts mehr gefragt, binnen",
		"support.note4":            " — Schweigen, kein Beweis für Erfolg;",
		"support.unresolved_em":    "ungelöst", "support.note5": "heißt, als nicht hilfreich bewertet oder von einer weiteren Frage gefolgt;",
		"support.pending_em": "offen", "support.note6": "heißt, das Zeitfenster läuft noch.",
	},
}

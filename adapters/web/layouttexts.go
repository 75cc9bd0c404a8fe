package web

// translationSets are every page's words that tr looks up.
var translationSets = []translations{layoutTexts, inboxTexts, supportTexts}

// layoutTexts are the dashboard frame's words (navigation, language
// switch) and the login page's. A page in the navigation is named by
// "nav:" and its path; a page without one keeps its English Title.
var layoutTexts = translations{
	"en": {
		"layout.skip": "Skip to content", "layout.language": "Language", "layout.pages": "Dashboard pages",
		"layout.dashboard": "dashboard", "layout.overview": "Overview", "layout.chat": "Chat", "layout.logout": "Log out",
		"login.title": "Staff login", "login.name": "Name", "login.secret": "Password or token", "login.submit": "Log in",
		"login.hint1": "Staff accounts are configured under", "login.hint2": "in config.yaml. Without any, einsatz prints a one-time login link when it starts.",
		"login.used":      "This login link was used already or has expired. Restart einsatz for a new one, or configure staff accounts.",
		"login.throttled": "Too many failed logins. Wait a minute and try again.", "login.wrong": "Wrong name or password.",
	},
	"de": {
		"layout.skip": "Zum Inhalt springen", "layout.language": "Sprache", "layout.pages": "Seiten des Dashboards",
		"layout.dashboard": "Dashboard", "layout.overview": "Übersicht", "layout.chat": "Chat", "layout.logout": "Abmelden",
		"nav:/dashboard/inbox": "Anfragen", "nav:/dashboard/escalations": "Eskalationen", "nav:/dashboard/support": "Support",
		"nav:/dashboard/gaps": "Wissenslücken", "nav:/dashboard/sentiment": "Stimmung",
		"nav:/dashboard/solved": "Gelöste Threads",
		"login.title":           "Anmeldung für das Team", "login.name": "Name", "login.secret": "Passwort oder Token", "login.submit": "Anmelden",
		"login.hint1": "Konten für das Team stehen unter", "login.hint2": "in config.yaml. Ohne eines gibt einsatz beim Start einen einmaligen Anmeldelink aus.",
		"login.used":      "Dieser Anmeldelink wurde schon benutzt oder ist abgelaufen. Starte einsatz neu für einen neuen, oder richte Konten für das Team ein.",
		"login.throttled": "Zu viele fehlgeschlagene Anmeldungen. Warte eine Minute und versuch es noch einmal.", "login.wrong": "Name oder Passwort falsch.",
	},
}

// navTitle is a navigation entry's label in lang.
func navTitle(lang string, p Page) string {
	for _, set := range allTranslations() {
		if s, ok := set[lang]["nav:"+p.Path]; ok {
			return s
		}
	}
	return p.Title
}

package web

// dict is one page's words: language ("en", "de") → key → text. Each page
// file keeps its own and adds it to dicts in an init, so pages translated
// at the same time do not edit one shared list.
type dict map[string]map[string]string

// dicts are the pages' words.
var dicts []dict

// tr is the text of key in lang (pageLang of the request), the English one
// when lang lacks it, else the key itself.
func tr(lang, key string) string {
	for _, d := range dicts {
		if v, ok := d[lang][key]; ok {
			return v
		}
	}
	for _, d := range dicts {
		if v, ok := d["en"][key]; ok {
			return v
		}
	}
	return key
}

package knowledge

import (
	"math"
	"slices"
	"unicode/utf8"
)

// Typo tolerance: members type "discrod", "conect", "olama", "slsck". A
// query term that no chunk has (under one analyzer) is replaced by the
// knowledge base's term it is one typing slip away from: two neighbouring
// letters swapped, a letter dropped or doubled, or a letter replaced by
// one next to it on a QWERTY or QWERTZ keyboard. The most frequent term
// wins if several are. The model is narrow on purpose: a looser one (any
// edit, two edits for long words) turned real words the knowledge base
// lacks into words it has ("sprechen" → "sprachen", "uninstall" →
// "install"), and an answer about the wrong thing costs more than an
// honest "I don't know". Short terms are left alone: at four letters and
// less most slips make another real word.
const minTypoRunes = 5

// vocabulary holds an analyzer's terms by length in runes, for the typo
// search.
type vocabulary map[int][]string

func newVocabulary(df map[string]int) vocabulary {
	v := make(vocabulary)
	for t := range df {
		n := utf8.RuneCountInString(t)
		v[n] = append(v[n], t)
	}
	for _, ts := range v {
		slices.Sort(ts) // deterministic choice among equals
	}
	return v
}

// correct returns the vocabulary term that term is a typing slip of, or ""
// when there is none. df breaks ties.
func (v vocabulary) correct(term string, df map[string]int) string {
	r := []rune(term)
	if len(r) < minTypoRunes {
		return ""
	}
	best, bestDF := "", 0
	for n := len(r) - 1; n <= len(r)+1; n++ {
		for _, cand := range v[n] {
			if df[cand] > bestDF && slip(r, []rune(cand)) {
				best, bestDF = cand, df[cand]
			}
		}
	}
	return best
}

// slip reports whether typed is intended with one typing slip: two
// neighbouring letters swapped, one letter left out or added, or one
// letter replaced by a neighbouring key. A first letter added or left out
// is not taken for a slip: it makes another real word more often ("bother"
// and "other", "ready" and "read").
func slip(typed, intended []rune) bool {
	i := 0
	for i < len(typed) && i < len(intended) && typed[i] == intended[i] {
		i++
	}
	switch len(typed) - len(intended) {
	case 0:
		if i == len(typed) {
			return false // the same
		}
		if slices.Equal(typed[i+1:], intended[i+1:]) {
			return neighbours(typed[i], intended[i])
		}
		return i+1 < len(typed) && typed[i] == intended[i+1] && typed[i+1] == intended[i] &&
			slices.Equal(typed[i+2:], intended[i+2:])
	case 1: // a letter added, not before the first ("bother" is not "other")
		return i > 0 && slices.Equal(typed[i+1:], intended[i:])
	case -1: // a letter left out, not the first ("other" is not "bother")
		return i > 0 && slices.Equal(typed[i:], intended[i+1:])
	}
	return false
}

// keyRows are the letter rows of a German QWERTZ keyboard; an English
// QWERTY one differs in y and z only, which neighbours treats as both.
var keyRows = []string{"qwertzuiopü", "asdfghjklöä", "yxcvbnm"}

// keyPos is each letter's key centre (column, row), rows offset like a
// real keyboard's.
var keyPos = func() map[rune][2]float64 {
	offset := []float64{0, 0.25, 0.75}
	m := make(map[rune][2]float64)
	for row, keys := range keyRows {
		for col, k := range []rune(keys) {
			m[k] = [2]float64{float64(col) + offset[row], float64(row)}
		}
	}
	return m
}()

// neighbours reports whether keys a and b touch on the keyboard.
func neighbours(a, b rune) bool {
	for _, pa := range keyPositions(a) {
		for _, pb := range keyPositions(b) {
			if math.Hypot(pa[0]-pb[0], pa[1]-pb[1]) < 1.3 {
				return true
			}
		}
	}
	return false
}

// keyPositions is where a key is: y and z each sit in two places, one per
// layout.
func keyPositions(k rune) [][2]float64 {
	p, ok := keyPos[k]
	if !ok {
		return nil
	}
	switch k {
	case 'y':
		return [][2]float64{p, keyPos['z']}
	case 'z':
		return [][2]float64{p, keyPos['y']}
	}
	return [][2]float64{p}
}

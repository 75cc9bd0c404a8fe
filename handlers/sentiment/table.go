package sentiment

// table is an open-addressing hash table from word to lexicon entry, built once from the
// lexicon map. It hashes the lowercased bytes directly (FNV-1a), so a lookup costs one short
// hash loop and usually one comparison, with no allocation.
type table struct {
	bloom [bloomBits / 64]uint64 // one bit per key: most misses end here, in L1 cache
	mask  uint32
	slots []slot
	keys  []key
	text  string
}

const bloomBits = 1 << 17

type slot struct {
	h   uint32
	key int32 // index into keys
}

type key struct {
	off, n uint32
	ent    int32
}

func hashWord[T string | []byte](w T) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(w); i++ {
		h ^= uint32(w[i])
		h *= 16777619
	}
	if h == 0 {
		h = 1
	}
	return h
}

func newTable(words map[string]int32) *table {
	size := uint32(16)
	for size < uint32(len(words))*5/2 {
		size <<= 1
	}
	t := &table{mask: size - 1, slots: make([]slot, size)}
	var text []byte
	for w, e := range words {
		h := hashWord(w)
		i := h & t.mask
		for t.slots[i].h != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = slot{h: h, key: int32(len(t.keys))}
		t.keys = append(t.keys, key{off: uint32(len(text)), n: uint32(len(w)), ent: e})
		text = append(text, w...)
		b := (h >> 15) & (bloomBits - 1)
		t.bloom[b/64] |= 1 << (b % 64)
	}
	t.text = string(text)
	return t
}

func tableGet[T string | []byte](t *table, w T) int32 {
	return tableGetH(t, w, hashWord(w))
}

// tableGetH is tableGet with the hash already computed (hashWord of w).
func tableGetH[T string | []byte](t *table, w T, h uint32) int32 {
	if b := (h >> 15) & (bloomBits - 1); t.bloom[b/64]&(1<<(b%64)) == 0 {
		return -1
	}
	i := h & t.mask
	for {
		s := t.slots[i]
		if s.h == 0 {
			return -1
		}
		if s.h == h {
			k := &t.keys[s.key]
			if int(k.n) == len(w) && equal(t.text[k.off:k.off+k.n], w) {
				return k.ent
			}
		}
		i = (i + 1) & t.mask
	}
}

// equal is string(w) == s for a short w, without the call to the runtime's memequal.
func equal[T string | []byte](s string, w T) bool {
	if len(w) > 16 {
		return s == string(w)
	}
	for i := 0; i < len(w); i++ {
		if s[i] != w[i] {
			return false
		}
	}
	return true
}

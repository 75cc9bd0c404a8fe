package detect

import (
	_ "embed"
	"encoding/binary"
	"math"
)

// ngrams.bin holds the model's n-gram weights, numBuckets little-endian
// float32s, written with model.go by TestTrain.
//
//go:embed ngrams.bin
var ngramsBin []byte

var ngramWeights = decodeNgrams(ngramsBin)

// decodeNgrams reads the n-gram weights; a file of the wrong size is a
// build mistake, so it panics at start-up rather than scoring wrongly.
func decodeNgrams(b []byte) *[numBuckets]float32 {
	if len(b) != 4*numBuckets {
		panic("detect: ngrams.bin does not hold numBuckets weights")
	}
	w := new([numBuckets]float32)
	for i := range w {
		w[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return w
}

// encodeNgrams is the inverse of decodeNgrams, for the trainer.
func encodeNgrams(w []float32) []byte {
	b := make([]byte, 4*len(w))
	for i, v := range w {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return b
}

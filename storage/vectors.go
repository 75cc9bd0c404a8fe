package storage

// The embeddings' keys are listed in keys.go (kb/vec/).

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"

	"github.com/dgraph-io/badger/v4"

	"github.com/einsatz/einsatz/bot/kb"
)

// vecDeletePage is how many vectors one commit deletes at most, so a
// model change over a large knowledge base never makes a transaction too big.
const vecDeletePage = 1000

const vecFormat = 1

func vecKey(source, chunkID string) []byte {
	return []byte(prefixVec + url.PathEscape(source) + "/" + url.PathEscape(chunkID))
}

// encodeVector is: format byte, then model, chunk id and source (each
// uvarint length + bytes), the text hash (8 bytes little-endian), the
// dimension (uvarint) and the components (float32 little-endian).
func encodeVector(v kb.Vector) []byte {
	buf := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(v.Model)+len(v.ChunkID)+len(v.Source)+8+binary.MaxVarintLen64+4*len(v.Vec))
	buf = append(buf, vecFormat)
	for _, s := range []string{v.Model, v.ChunkID, v.Source} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = binary.LittleEndian.AppendUint64(buf, v.Hash)
	buf = binary.AppendUvarint(buf, uint64(len(v.Vec)))
	for _, f := range v.Vec {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(f))
	}
	return buf
}

var errBadVector = errors.New("malformed vector record")

func decodeVector(b []byte) (kb.Vector, error) {
	var v kb.Vector
	if len(b) == 0 || b[0] != vecFormat {
		return v, errBadVector
	}
	b = b[1:]
	var strs [3]string
	for i := range strs {
		n, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < n {
			return v, errBadVector
		}
		strs[i] = string(b[w : w+int(n)])
		b = b[w+int(n):]
	}
	v.Model, v.ChunkID, v.Source = strs[0], strs[1], strs[2]
	if len(b) < 8 {
		return v, errBadVector
	}
	v.Hash = binary.LittleEndian.Uint64(b)
	b = b[8:]
	dim, w := binary.Uvarint(b)
	// dim > len(b) first: 4*dim could overflow for a damaged record.
	if w <= 0 || dim > uint64(len(b)) || uint64(len(b)-w) != 4*dim {
		return v, errBadVector
	}
	b = b[w:]
	v.Vec = make([]float32, dim)
	for i := range v.Vec {
		v.Vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// Vectors returns every stored chunk embedding, by source and chunk id.
// A malformed record is skipped (and so embedded again by the next sync).
func (b *KB) Vectors(ctx context.Context) ([]kb.Vector, error) {
	var vecs []kb.Vector
	err := b.s.scan(ctx, prefixVec, func(k, v []byte) error {
		vec, err := decodeVector(v)
		if err != nil {
			b.s.log.Warn("storage: skipping a knowledge vector", "key", string(k), "err", err)
			return nil
		}
		vecs = append(vecs, vec)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: knowledge vectors: %w", err)
	}
	return vecs, nil
}

// PutVectors stores chunk embeddings (replacing those of the same chunk
// ids), in writes of at most maxWriteBytes (64 vectors of 3,072 dimensions
// are 790 kB, more than one Badger transaction holds).
func (b *KB) PutVectors(ctx context.Context, vecs []kb.Vector) error {
	if len(vecs) == 0 {
		return nil
	}
	keys := make([][]byte, len(vecs))
	values := make([][]byte, len(vecs))
	for i, v := range vecs {
		if v.ChunkID == "" {
			return fmt.Errorf("storage: put knowledge vector from %q: no chunk id", v.Source)
		}
		keys[i], values[i] = vecKey(v.Source, v.ChunkID), encodeVector(v)
	}
	for _, pg := range pages(values) {
		err := b.s.commit(ctx, func(txn *badger.Txn) error {
			for i := pg[0]; i < pg[1]; i++ {
				if err := txn.Set(keys[i], values[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("storage: put knowledge vectors: %w", err)
		}
	}
	return nil
}

// DeleteVectors removes the embeddings of the given chunks (Source and
// ChunkID name them; the rest is ignored).
func (b *KB) DeleteVectors(ctx context.Context, vecs []kb.Vector) error {
	for start := 0; start < len(vecs); start += vecDeletePage {
		page := vecs[start:min(start+vecDeletePage, len(vecs))]
		err := b.s.commit(ctx, func(txn *badger.Txn) error {
			for _, v := range page {
				if err := txn.Delete(vecKey(v.Source, v.ChunkID)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("storage: delete knowledge vectors: %w", err)
		}
	}
	return nil
}

var (
	_ kb.Store       = (*KB)(nil)
	_ kb.VectorStore = (*KB)(nil)
)

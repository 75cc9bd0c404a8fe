package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/bot/kb"
	"github.com/einsatz/einsatz/handlers/answer"
	"github.com/einsatz/einsatz/handlers/knowledge"
)

// evalAnswersCommand is "einsatz eval answers FILE.jsonl": every question
// through the bot's answer path (extractive, no LLM), against the
// configured knowledge base or --kb DIR, read into memory (no storage, so
// it runs beside a running server).
func evalAnswersCommand(app App, loadConfig func(*cobra.Command) (*config.Config, error), stdout io.Writer) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "answers FILE.jsonl",
		Short: `Answer/abstain quality on lines {"q": ..., "lang": ..., "expect": "<source path>" or "" if not covered}`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			cases, err := answer.ReadCases(f)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			folders := []knowledge.Folder{{FS: knowledge.DirFS(dir), Root: "."}}
			if dir == "" {
				if folders, err = app.KnowledgeFolders(cfg); err != nil {
					return err
				}
			}
			var chunks []kb.Chunk
			for _, fo := range folders {
				cs, err := knowledge.LoadFS(fo.FS, fo.Root)
				if err != nil {
					return err
				}
				chunks = append(chunks, cs...)
			}
			ix, err := knowledge.NewIndex(chunks)
			if err != nil {
				return err
			}
			defer ix.Close()
			h := answer.New(answer.Options{Search: ix, Text: func(_, key string) string { return key },
				MinConfidence: cfg.Knowledge.MinConfidence})
			rep, err := answer.Eval(cmd.Context(), h, cases)
			if err != nil {
				return err
			}
			return rep.Write(stdout)
		},
	}
	cmd.Flags().StringVar(&dir, "kb", "", "knowledge folder to answer from (default: the configured knowledge base)")
	return cmd
}

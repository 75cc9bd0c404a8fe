package handoff_test

import (
	"strings"
	"testing"
	"time"

	"github.com/einsatz/einsatz/bot/config"
	"github.com/einsatz/einsatz/handlers/handoff"
)

func TestFromConfigHours(t *testing.T) {
	tests := []struct {
		name      string
		hours     config.Hours
		wantHours bool
		wantErr   string
	}{
		{"unset: always", config.Hours{}, false, ""},
		{"set", config.Hours{Timezone: "Europe/Berlin", Days: []string{"mon", "fri"}, From: "09:00", To: "17:00"}, true, ""},
		{"bad zone", config.Hours{Timezone: "Mars/Olympus", From: "09:00", To: "17:00"}, false, "handoff.hours"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Handoff.Hours = tt.hours
			o, err := handoff.FromConfig(cfg, nil, handoff.Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || (o.Hours != nil) != tt.wantHours {
				t.Fatalf("hours = %+v, %v", o.Hours, err)
			}
			if o.Summarize != nil {
				t.Error("a summarizer without an LLM")
			}
			if tt.wantHours && (o.Hours.From != 9*time.Hour || !o.Hours.Days[time.Friday] || o.Hours.Days[time.Tuesday]) {
				t.Errorf("hours = %+v", o.Hours)
			}
		})
	}
}

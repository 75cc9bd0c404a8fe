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

func TestFromConfigSLAWarnAt(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr string
	}{
		{"", 0, ""}, // the service's default, 80 %
		{"80%", 0.8, ""},
		{"50 %", 0.5, ""},
		{"100%", 1, ""},
		{"0.8", 0, "handoff.sla_warn_at: want a percentage"},
		{"0%", 0, "handoff.sla_warn_at: must be from 1% to 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			cfg := config.Default()
			cfg.Handoff.SLAWarnAt = tt.in
			o, err := handoff.FromConfig(cfg, nil, handoff.Options{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || o.SLAWarnAt != tt.want {
				t.Fatalf("SLAWarnAt = %v, %v; want %v", o.SLAWarnAt, err, tt.want)
			}
		})
	}
}

package config

import (
	"path/filepath"
	"testing"
)

func TestResolveDataDir(t *testing.T) {
	wd, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		file     string // config file contents; "" for none (the defaults)
		flag     string
		env      map[string]string
		want     string
		wantFrom string
	}{
		{"defaults", "", "", nil, filepath.Join(wd, "data"), "default"},
		{"env without a file", "", "", map[string]string{"EINSATZ_DATA": "/srv/e"}, "/srv/e", "EINSATZ_DATA"},
		{"empty env is unset", "", "", map[string]string{"EINSATZ_DATA": ""}, filepath.Join(wd, "data"), "default"},
		{"file", "storage:\n  path: /var/lib/einsatz\n", "", nil, "/var/lib/einsatz", "storage.path"},
		{"file, relative", "storage:\n  path: ./d\n", "", nil, filepath.Join(wd, "d"), "storage.path"},
		{"shipped file with env", "storage:\n  path: ${EINSATZ_DATA:-./data}\n", "", map[string]string{"EINSATZ_DATA": "/srv/e"}, "/srv/e", "EINSATZ_DATA"},
		{"shipped file without env", "storage:\n  path: ${EINSATZ_DATA:-./data}\n", "", nil, filepath.Join(wd, "data"), "storage.path"},
		{"env over file", "storage:\n  path: /var/lib/einsatz\n", "", map[string]string{"EINSATZ_DATA": "/srv/e"}, "/srv/e", "EINSATZ_DATA"},
		{"flag over all", "storage:\n  path: /var/lib/einsatz\n", "/mnt/x", map[string]string{"EINSATZ_DATA": "/srv/e"}, "/mnt/x", "--data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			if tc.file != "" {
				var err error
				if cfg, err = Parse([]byte(tc.file), "config.yaml", env(tc.env)); err != nil {
					t.Fatal(err)
				}
			}
			from := cfg.ResolveDataDir(tc.flag, env(tc.env))
			if cfg.Storage.Path != tc.want || from != tc.wantFrom {
				t.Errorf("got %s from %s, want %s from %s", cfg.Storage.Path, from, tc.want, tc.wantFrom)
			}
		})
	}
}

package config_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pia-sicilia/pia/internal/config"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.Load("piad", nil, env(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DatabaseURL != "" || c.DataDir != "data" || !c.Dev() || c.LogFormat != "text" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.WSInitTimeout != 10*time.Second || c.MaxBodyBytes != 2<<20 {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	c, err := config.Load("piad", []string{"-addr", "127.0.0.1:9000"},
		env(map[string]string{"PIA_ADDR": ":7000", "PIA_ENV": "prod", "PIA_ALLOWED_ORIGINS": "https://a.example, https://b.example"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Dev() || c.LogFormat != "json" {
		t.Fatalf("got %+v", c)
	}
	if strings.Join(c.AllowedOrigins, "|") != "https://a.example|https://b.example" {
		t.Fatalf("origins %q", c.AllowedOrigins)
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	_, err := config.Load("piad", nil, env(map[string]string{
		"PIA_ENV": "staging", "PIA_LOG_LEVEL": "loud", "PIA_MAX_BODY_BYTES": "-1", "PIA_WS_INIT_TIMEOUT": "soon",
	}), io.Discard)
	if err == nil {
		t.Fatal("bad settings accepted")
	}
	for _, name := range []string{"PIA_ENV", "PIA_LOG_LEVEL", "PIA_MAX_BODY_BYTES", "PIA_WS_INIT_TIMEOUT"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if _, err := config.Load("piad", []string{"-nope"}, env(nil), io.Discard); err == nil {
		t.Error("unknown flag accepted")
	}
}

// The README documents every setting with its default.
func TestREADMEListsEverySetting(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, s := range config.Settings {
		row := "| `" + s.Env + "` | `-" + s.Flag + "` | "
		if s.Default != "" {
			row += "`" + s.Default + "`"
		}
		if !strings.Contains(readme, row) {
			t.Errorf("README.md has no row starting %q", row)
		}
	}
}

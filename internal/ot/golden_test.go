package ot_test

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/pia-sicilia/pia/internal/ot"
)

type goldenCase struct {
	Name string `json:"name"`
	Base string `json:"base"`
	A    ot.Op  `json:"a"`
	B    ot.Op  `json:"b"`
	A2   ot.Op  `json:"a2"`
	B2   ot.Op  `json:"b2"`
	Text string `json:"text"`
}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	data, err := os.ReadFile("testdata/transform.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []goldenCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 25 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	return cases
}

func js(op ot.Op) string {
	b, err := json.Marshal(op)
	if err != nil {
		return "error: " + err.Error()
	}
	return string(b)
}

func TestTransformGolden(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			a2, b2, err := ot.Transform(c.A, c.B)
			if err != nil {
				t.Fatal(err)
			}
			if js(a2) != js(c.A2) || js(b2) != js(c.B2) {
				t.Errorf("Transform(%s, %s) = %s, %s; want %s, %s", js(c.A), js(c.B), js(a2), js(b2), js(c.A2), js(c.B2))
			}
			sa := mustApply(t, c.Base, c.A)
			sb := mustApply(t, c.Base, c.B)
			if got := mustApply(t, sa, b2); got != c.Text {
				t.Errorf("apply(apply(base, a), b') = %q, want %q", got, c.Text)
			}
			if got := mustApply(t, sb, a2); got != c.Text {
				t.Errorf("apply(apply(base, b), a') = %q, want %q", got, c.Text)
			}
			// The runes path reaches the same text.
			r, err := ot.ApplyRunes([]rune(c.Base), c.B)
			if err != nil {
				t.Fatal(err)
			}
			if r, err = ot.ApplyRunes(r, a2); err != nil || string(r) != c.Text {
				t.Errorf("ApplyRunes path = %q, %v; want %q", string(r), err, c.Text)
			}
			// The model agrees with the file.
			if got := merge(c.Base, c.A, c.B); got != c.Text {
				t.Errorf("model merge = %q, want %q", got, c.Text)
			}
			// With the arguments swapped (the other tie-break) it converges too.
			b3, a3, err := ot.Transform(c.B, c.A)
			if err != nil {
				t.Fatal(err)
			}
			x, y := mustApply(t, sa, b3), mustApply(t, sb, a3)
			if x != y {
				t.Errorf("Transform(b, a) does not converge: %q vs %q", x, y)
			}
		})
	}
}

func mustApply(t *testing.T, s string, op ot.Op) string {
	t.Helper()
	out, err := ot.Apply(s, op)
	if err != nil {
		t.Fatalf("Apply(%q, %s): %v", s, js(op), err)
	}
	return out
}

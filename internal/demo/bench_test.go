package demo_test

import (
	"context"
	"testing"

	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// BenchmarkScale seeds a generated region of 200 organizations and 1,000
// people (scale 0.1) through the import, on a fresh database per iteration,
// and reports the import's time per imported row.
func BenchmarkScale(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				e := newEnv(b, storagetest.Open(b, engine))
				b.StartTimer()
				rep, err := demo.Seed(context.Background(), e.deps, demo.Options{Scale: 0.1})
				if err != nil {
					b.Fatal(err)
				}
				rows := 0
				for _, f := range rep.Scale.Files {
					rows += f.Rows
				}
				b.ReportMetric(float64(rep.Scale.Elapsed.Microseconds())/float64(rows), "µs/row")
			}
		})
	}
}

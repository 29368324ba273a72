package tensor

import (
	"strings"
	"testing"
)

func TestChooseCore(t *testing.T) {
	avx512 := CPUFeatures{AVX2: true, FMA: true, AVX512F: true, AVX512BW: true, AVX512DQ: true, AVX512VL: true, AVX512CD: true}
	avx2 := CPUFeatures{AVX2: true, FMA: true}
	for _, c := range []struct {
		name             string
		detected, user   string
		dynamic          bool
		f                CPUFeatures
		want, whyContain string
	}{
		{"generic fallback on AVX-512", "Prescott", "", true, avx512, "SkylakeX", "detected Prescott"},
		{"generic fallback on AVX2", "Prescott", "", true, avx2, "Haswell", "AVX2"},
		{"AVX kernel on AVX-512", "Sandybridge", "", true, avx512, "SkylakeX", "Sandybridge"},
		{"AVX2 kernel on AVX-512", "Haswell", "", true, avx512, "SkylakeX", "Haswell"},
		{"right kernel kept", "SkylakeX", "", true, avx512, "", "detected by OpenBLAS"},
		{"better than the features say kept", "SkylakeX", "", true, avx2, "", "detected"},
		{"user's choice kept", "Prescott", "Prescott", true, avx512, "", "OPENBLAS_CORETYPE=Prescott"},
		{"no DYNAMIC_ARCH", "Prescott", "", false, avx512, "", "DYNAMIC_ARCH"},
		{"CPU without AVX2", "Prescott", "", true, CPUFeatures{AVX2: true}, "", "detected"},
		{"AVX-512 without VL", "Prescott", "", true, CPUFeatures{AVX2: true, FMA: true, AVX512F: true}, "Haswell", "AVX2"},
		{"unknown kernel name kept", "Neoverse", "", true, avx512, "", "detected"},
	} {
		want, why := ChooseCore(c.detected, c.user, c.dynamic, c.f)
		if want != c.want || !strings.Contains(why, c.whyContain) {
			t.Errorf("%s: got %q (%s), want %q (…%s…)", c.name, want, why, c.want, c.whyContain)
		}
	}
}

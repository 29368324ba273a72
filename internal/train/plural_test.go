package train

import (
	"bytes"
	"strings"
	"testing"
)

// compare over one batch says "the first batch", not "the first 1 batches".
func TestCompareTableOneBatch(t *testing.T) {
	var buf bytes.Buffer
	(&CompareReport{Steps: 1, DType: "float64"}).WriteTable(&buf)
	if out := buf.String(); strings.Contains(out, "1 batches") || !strings.Contains(out, "the first batch ") {
		t.Errorf("%q", out)
	}
}

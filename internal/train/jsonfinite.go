package train

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
)

// marshalLine encodes one metrics or telemetry record. JSON has no NaN or
// Inf, and json.Marshal refuses a record holding one (a diverged
// evaluation, say), which would leave an empty line that every reader of
// the file then chokes on. Such a record is written with null in place of
// each non-finite number (its keys sorted), so the line stays valid and
// says what is unknown.
func marshalLine(v any) []byte {
	if b, err := json.Marshal(v); err == nil {
		return b
	}
	b, err := json.Marshal(finite(reflect.ValueOf(v)))
	if err != nil {
		return []byte(`{"error":"record could not be encoded"}`)
	}
	return b
}

// finite is v as plain maps, slices and values with every NaN and ±Inf
// replaced by nil, following encoding/json's field names and omitempty.
func finite(v reflect.Value) any {
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil
		}
		return v.Interface()
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return finite(v.Elem())
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return nil
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = finite(v.Index(i))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return nil
		}
		out := map[string]any{}
		for _, k := range v.MapKeys() {
			out[k.String()] = finite(v.MapIndex(k))
		}
		return out
	case reflect.Struct:
		out := map[string]any{}
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if strings.Contains(opts, "omitempty") && v.Field(i).IsZero() {
				continue
			}
			out[name] = finite(v.Field(i))
		}
		return out
	}
	return v.Interface()
}

package config

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// keyTypes maps every dotted key to the Go type of its Config field.
func keyTypes() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := f.Tag.Get("mapstructure")
			if name == "" {
				continue
			}
			if prefix != "" {
				name = prefix + "." + name
			}
			if f.Type.Kind() == reflect.Struct {
				walk(name, f.Type)
				continue
			}
			out[name] = f.Type
		}
	}
	walk("", reflect.TypeOf(Config{}))
	return out
}

// checkValue says, in words, why v (as YAML decodes it) cannot be a value
// of type t; "" when it can. It is stricter than mapstructure, which
// truncates 1.5 to 1 for an int: an int key takes an integer, or a float
// with no fractional part (1e3).
func checkValue(t reflect.Type, v any) string {
	switch t.Kind() {
	case reflect.Int:
		if _, ok := asInt(v, false); !ok {
			return "expected an integer, got " + describe(v)
		}
	case reflect.Uint64:
		if _, ok := asInt(v, true); !ok {
			return "expected a non-negative integer, got " + describe(v)
		}
	case reflect.Float64:
		switch x := v.(type) {
		case int, int64, uint64:
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "expected a finite number, got " + describe(v)
			}
		default:
			return "expected a number, got " + describe(v)
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return "expected true or false, got " + describe(v)
		}
	case reflect.String:
		if _, ok := v.(string); !ok && v != nil {
			return "expected a string, got " + describe(v)
		}
	case reflect.Slice:
		list, ok := v.([]any)
		if !ok {
			if t.Elem().Kind() == reflect.Int {
				return "expected a list of integers such as [784, 128, 10], got " + describe(v)
			}
			return "expected a list of mappings, got " + describe(v)
		}
		for i, e := range list {
			if t.Elem().Kind() == reflect.Int {
				if msg := checkValue(t.Elem(), e); msg != "" {
					return fmt.Sprintf("entry %d: %s", i, msg)
				}
				continue
			}
			if _, ok := e.(map[string]any); !ok {
				return fmt.Sprintf("entry %d: expected a mapping such as {dense: {out: 10}}, got %s", i, describe(e))
			}
		}
	}
	return ""
}

// asInt reads an integer that YAML may have decoded as int, int64, uint64
// or an integral float64 (1e3). Values beyond ±2⁵³ as floats, or beyond
// the int64 range, are refused.
func asInt(v any, nonNegative bool) (int64, bool) {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return 0, false
		}
		n = int64(x)
	default:
		return 0, false
	}
	if nonNegative && n < 0 {
		return 0, false
	}
	return n, true
}

// describe shows a value as the user wrote it, without Go type names.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "nothing (an empty value)"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case float64:
		if math.Abs(x) >= 1e21 || (x != 0 && math.Abs(x) < 1e-6) {
			return fmt.Sprintf("%g", x)
		}
		return fmt.Sprintf("%v", x)
	case bool, int, int64, uint64:
		return fmt.Sprintf("%v", x)
	}
	return strings.TrimSpace(fmt.Sprintf("%v", v))
}

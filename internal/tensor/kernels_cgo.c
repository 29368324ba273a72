//go:build cgo && !purego

// The C element-wise kernels: kernels_body.h compiled three times, for
// SSE2 (any x86-64, and any other architecture gcc targets), AVX2 and
// AVX-512; pc_kernels_select picks one from the CPU at start-up. Other
// compilers (clang) and architectures get the baseline build only.
#include "kernels.h"

// No fused multiply-add: the kernels round after every operation, as Go
// does, so they equal the Go loops bit for bit. No trapping math: lets gcc
// turn the kernels' selects into vector blends (it changes no result).
// cgo does not accept these among its flags; the pragma sets them. (It
// does not reach sqrtf's errno handling: see the adam kernels.)
#pragma GCC optimize("-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math")

#define K(name) name##_base
#include "kernels_body.h"
#undef K

static const struct pc_kernels *pc_k = &table_base;
static const char *pc_k_name = "C (generic)";

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <immintrin.h>

// adam in W-wide vectors (VEC a vector type, with its load, store and
// arithmetic), then the scalar tail: the operations of K(adam_tail).
#define PC_ADAM_VEC(SUF, VEC, W, SET1, LOAD, STORE, ADD, SUB, MUL, DIV, SQRT)                                    \
	static void adam_##SUF(float *restrict p, const float *restrict g, float *restrict m, float *restrict v,   \
			       long n, struct pc_adam h) {                                                   \
		const VEC step = SET1(h.step), isb = SET1(h.inv_sqrt_bc2), decay = SET1(h.decay),               \
			  l2 = SET1(h.l2), b1 = SET1(h.b1), b2 = SET1(h.b2), c1 = SET1(h.c1), c2 = SET1(h.c2), \
			  eps = SET1(h.eps);                                                                        \
		long i = 0;                                                                                          \
		for (; i + W <= n; i += W) {                                                                         \
			VEC pi = LOAD(p + i);                                                                        \
			VEC gi = ADD(LOAD(g + i), MUL(l2, pi));                                                      \
			pi = MUL(pi, decay);                                                                         \
			VEC mi = ADD(MUL(b1, LOAD(m + i)), MUL(c1, gi));                                             \
			VEC vi = ADD(MUL(b2, LOAD(v + i)), MUL(MUL(c2, gi), gi));                                    \
			STORE(m + i, mi);                                                                            \
			STORE(v + i, vi);                                                                            \
			STORE(p + i, SUB(pi, DIV(MUL(step, mi), ADD(MUL(SQRT(vi), isb), eps))));                    \
		}                                                                                                    \
		adam_tail_##SUF(p, g, m, v, i, n, h);                                                                \
	}

#define PC_VECTOR_ADAM
#pragma GCC push_options
#pragma GCC target("avx2")
#define K(name) name##_avx2
#include "kernels_body.h"
PC_ADAM_VEC(avx2, __m256, 8, _mm256_set1_ps, _mm256_loadu_ps, _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps,
	    _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps)
#undef K
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx512vl,prefer-vector-width=512")
#define K(name) name##_avx512
#include "kernels_body.h"
PC_ADAM_VEC(avx512, __m512, 16, _mm512_set1_ps, _mm512_loadu_ps, _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps,
	    _mm512_mul_ps, _mm512_div_ps, _mm512_sqrt_ps)
#undef K
#pragma GCC pop_options
#undef PC_VECTOR_ADAM
#endif

const char *pc_kernels_select(void) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512vl")) {
		pc_k = &table_avx512;
		pc_k_name = "C (AVX-512)";
	} else if (__builtin_cpu_supports("avx2")) {
		pc_k = &table_avx2;
		pc_k_name = "C (AVX2)";
	} else {
		pc_k_name = "C (SSE2)";
	}
#endif
	return pc_k_name;
}

void pc_tanh_fd(float *y, float *d, const float *x, long n) { pc_k->tanh_fd(y, d, x, n); }
void pc_sigmoid_fd(float *y, float *d, const float *x, long n) { pc_k->sigmoid_fd(y, d, x, n); }
void pc_gelu_fd(float *y, float *d, const float *x, long n) { pc_k->gelu_fd(y, d, x, n); }
void pc_relu_fd(float *y, float *d, const float *x, long n) { pc_k->relu_fd(y, d, x, n); }
void pc_leaky_fd(float *y, float *d, const float *x, long n) { pc_k->leaky_fd(y, d, x, n); }
void pc_add(float *dst, const float *a, const float *b, long n) { pc_k->add(dst, a, b, n); }
void pc_sub(float *dst, const float *a, const float *b, long n) { pc_k->sub(dst, a, b, n); }
void pc_mul(float *dst, const float *a, const float *b, long n) { pc_k->mul(dst, a, b, n); }
void pc_axpy(float alpha, const float *x, float *y, long n) { pc_k->axpy(alpha, x, y, n); }
void pc_scale(float *dst, float s, const float *x, long n) { pc_k->scale(dst, s, x, n); }
void pc_value_step_add(float *x, float *vel, const float *eps, const float *g, float lr, float m, long n) {
	pc_k->value_step_add(x, vel, eps, g, lr, m, n);
}
void pc_value_step(float *x, float *vel, const float *eps, const float *pull, float lr, float m, long n) {
	pc_k->value_step(x, vel, eps, pull, lr, m, n);
}
double pc_sumsq(const float *x, long n) { return pc_k->sumsq(x, n); }
void pc_add_row(float *m, long rows, long cols, const float *v) { pc_k->add_row(m, rows, cols, v); }
void pc_adam(float *p, const float *g, float *m, float *v, long n, struct pc_adam h) {
	pc_k->adam(p, g, m, v, n, h);
}

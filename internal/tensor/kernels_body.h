// Element-wise float32 kernels, included by kernels_cgo.c once per
// instruction set with K(name) naming that variant. Each loop body is the
// Go kernel's (act32.go, kernels.go) operation for operation, written
// branch-free so that gcc vectorises it; kernels_cgo.c compiles without
// floating-point contraction, so results equal the Go loops bit for bit.

static inline float K(exp32)(float x) {
	// Clamped so that the conversions below stay defined (NaN → −87); the
	// selects at the end give 0, +Inf or NaN where Exp32 does.
	float xc = x >= -87.0f ? (x <= 88.0f ? x : 88.0f) : -87.0f;
	float fx = (float)((int)(xc * 1.44269504088896341f + 0.5f + 128.0f) - 128);
	float r = xc - fx * 0.693359375f;
	r = r - fx * -2.12194440e-4f;
	float z = r * r;
	float y = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r + 4.1665795894e-2f) * r +
		   1.6666665459e-1f) * r + 5.0000001201e-1f;
	y = y * z + r + 1.0f;
	union { unsigned u; float f; } s;
	s.u = (unsigned)((int)fx + 127) << 23;
	y = y * s.f;
	y = x < -87.0f ? 0.0f : y;
	y = x > 88.0f ? __builtin_inff() : y;
	return x == x ? y : x;
}

// Both of Tanh32's forms share one division: num/den is 2e/(1+e) for
// |x| > 2 and p/q otherwise, each rounded as Tanh32 rounds it.
static inline float K(tanh32)(float x) {
	const float a1 = 4.89352455891786e-03f, a3 = 6.37261928875436e-04f, a5 = 1.48572235717979e-05f,
		    a7 = 5.12229709037114e-08f, a9 = -8.60467152213735e-11f, a11 = 2.00018790482477e-13f,
		    a13 = -2.76076847742355e-16f, b0 = 4.89352518554385e-03f, b2 = 2.26843463243900e-03f,
		    b4 = 1.18534705686654e-04f, b6 = 1.19825839466702e-06f;
	float ax = x < 0 ? -x : x;
	int big = ax > 2.0f; // x > 2 || x < −2 (NaN: neither)
	float e = K(exp32)(-2.0f * ax);
	float xs = big ? 0.0f : x; // keeps the unused rational branch finite
	float x2 = xs * xs;
	float p = ((((((a13 * x2 + a11) * x2 + a9) * x2 + a7) * x2 + a5) * x2 + a3) * x2 + a1) * xs;
	float q = ((b6 * x2 + b4) * x2 + b2) * x2 + b0;
	float r = (big ? 2.0f * e : p) / (big ? 1.0f + e : q);
	float yb = 1.0f - r;
	yb = x < 0 ? -yb : yb;
	return big ? yb : r;
}

static void K(tanh_fd)(float *restrict y, float *restrict d, const float *restrict x, long n) {
	for (long i = 0; i < n; i++) {
		float t = K(tanh32)(x[i]);
		y[i] = t;
		d[i] = 1.0f - t * t;
	}
}

static void K(sigmoid_fd)(float *restrict y, float *restrict d, const float *restrict x, long n) {
	for (long i = 0; i < n; i++) {
		float s = 1.0f / (1.0f + K(exp32)(-x[i]));
		y[i] = s;
		d[i] = s * (1.0f - s);
	}
}

static void K(gelu_fd)(float *restrict y, float *restrict d, const float *restrict x, long n) {
	const float p = 0.23164189f /* float32(0.3275911/√2) */, a1 = 0.254829592f, a2 = -0.284496736f,
		    a3 = 1.421413741f, a4 = -1.453152027f, a5 = 1.061405429f, invS2p = 0.3989422804014327f;
	for (long i = 0; i < n; i++) {
		float v = x[i];
		float ax = v < 0 ? -v : v;
		float e = K(exp32)(-0.5f * v * v);
		float t = 1.0f / (1.0f + p * ax);
		float erf = 1.0f - ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t * e;
		erf = v < 0 ? -erf : erf;
		float cdf = 0.5f + 0.5f * erf;
		y[i] = v * cdf;
		d[i] = cdf + v * e * invS2p;
	}
}

static void K(relu_fd)(float *restrict y, float *restrict d, const float *restrict x, long n) {
	for (long i = 0; i < n; i++) {
		float v = x[i];
		y[i] = v > 0 ? v : 0.0f;
		d[i] = v > 0 ? 1.0f : 0.0f;
	}
}

static void K(leaky_fd)(float *restrict y, float *restrict d, const float *restrict x, long n) {
	const float slope = 0.01f;
	for (long i = 0; i < n; i++) {
		float v = x[i];
		y[i] = v > 0 ? v : slope * v;
		d[i] = v > 0 ? 1.0f : slope;
	}
}

// dst may alias a or b: no restrict.
static void K(add)(float *dst, const float *a, const float *b, long n) {
	for (long i = 0; i < n; i++) dst[i] = a[i] + b[i];
}

static void K(sub)(float *dst, const float *a, const float *b, long n) {
	for (long i = 0; i < n; i++) dst[i] = a[i] - b[i];
}

static void K(mul)(float *dst, const float *a, const float *b, long n) {
	for (long i = 0; i < n; i++) dst[i] = a[i] * b[i];
}

static void K(axpy)(float alpha, const float *restrict x, float *restrict y, long n) {
	for (long i = 0; i < n; i++) y[i] += alpha * x[i];
}

// dst may be x (scaling in place).
static void K(scale)(float *dst, float s, const float *x, long n) {
	for (long i = 0; i < n; i++) dst[i] = s * x[i];
}

// value_step with the sign of the second term flipped: eps + g. x may be
// eps (ePC steps its errors in place).
static void K(value_step_add)(float *x, float *restrict vel, const float *eps, const float *restrict g, float lr,
			      float m, long n) {
	for (long i = 0; i < n; i++) {
		float v = m * vel[i] + (eps[i] + g[i]);
		vel[i] = v;
		x[i] -= lr * v;
	}
}

static void K(value_step)(float *restrict x, float *restrict vel, const float *restrict eps,
			  const float *restrict pull, float lr, float m, long n) {
	for (long i = 0; i < n; i++) {
		float v = m * vel[i] + (eps[i] - pull[i]);
		vel[i] = v;
		x[i] -= lr * v;
	}
}

// Σ x² in double with 8 accumulators (lane j sums the elements i ≡ j mod 8;
// the tail goes to lane 0), added up in lane order: goSumSq32's order.
static double K(sumsq)(const float *restrict x, long n) {
	double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
	long i = 0;
	for (; i + 8 <= n; i += 8)
		for (int j = 0; j < 8; j++) acc[j] += (double)x[i + j] * (double)x[i + j];
	for (; i < n; i++) acc[0] += (double)x[i] * (double)x[i];
	double s = 0;
	for (int j = 0; j < 8; j++) s += acc[j];
	return s;
}

static void K(add_row)(float *restrict m, long rows, long cols, const float *restrict v) {
	for (long r = 0; r < rows; r++) {
		float *restrict row = m + r * cols;
		for (long j = 0; j < cols; j++) row[j] += v[j];
	}
}

// adam's vector forms are written with intrinsics in kernels_cgo.c: gcc
// will not vectorise sqrtf while errno may be set, and cgo does not accept
// -fno-math-errno. K(adam_tail) is the scalar loop from element i on.
static void K(adam_tail)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long i,
			 long n, struct pc_adam h) {
	const float step = h.step, isb = h.inv_sqrt_bc2, decay = h.decay, l2 = h.l2, b1 = h.b1, b2 = h.b2,
		    c1 = h.c1, c2 = h.c2, eps = h.eps;
	for (; i < n; i++) {
		float pi = p[i];
		float gi = g[i] + l2 * pi;
		pi *= decay;
		float mi = b1 * m[i] + c1 * gi;
		float vi = b2 * v[i] + c2 * gi * gi;
		m[i] = mi;
		v[i] = vi;
		p[i] = pi - step * mi / (__builtin_sqrtf(vi) * isb + eps);
	}
}

#ifdef PC_VECTOR_ADAM
static void K(adam)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
		    struct pc_adam h);
#else
static void K(adam)(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, long n,
		    struct pc_adam h) {
	K(adam_tail)(p, g, m, v, 0, n, h);
}
#endif

static const struct pc_kernels K(table) = {
	.tanh_fd = K(tanh_fd), .sigmoid_fd = K(sigmoid_fd), .gelu_fd = K(gelu_fd), .relu_fd = K(relu_fd),
	.leaky_fd = K(leaky_fd), .add = K(add), .sub = K(sub), .mul = K(mul), .axpy = K(axpy), .scale = K(scale),
	.value_step = K(value_step), .value_step_add = K(value_step_add), .sumsq = K(sumsq), .add_row = K(add_row), .adam = K(adam),
};

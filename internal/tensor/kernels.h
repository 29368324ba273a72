// Declarations shared by kernels_cgo.go and kernels_cgo.c.
#ifndef PCTRAIN_KERNELS_H
#define PCTRAIN_KERNELS_H

struct pc_adam {
	float step, inv_sqrt_bc2, decay, l2, b1, b2, c1, c2, eps;
};

struct pc_kernels {
	void (*tanh_fd)(float *, float *, const float *, long);
	void (*sigmoid_fd)(float *, float *, const float *, long);
	void (*gelu_fd)(float *, float *, const float *, long);
	void (*relu_fd)(float *, float *, const float *, long);
	void (*leaky_fd)(float *, float *, const float *, long);
	void (*add)(float *, const float *, const float *, long);
	void (*sub)(float *, const float *, const float *, long);
	void (*mul)(float *, const float *, const float *, long);
	void (*axpy)(float, const float *, float *, long);
	void (*scale)(float *, float, const float *, long);
	void (*value_step)(float *, float *, const float *, const float *, float, float, long);
	void (*value_step_add)(float *, float *, const float *, const float *, float, float, long);
	double (*sumsq)(const float *, long);
	void (*add_row)(float *, long, long, const float *);
	void (*adam)(float *, const float *, float *, float *, long, struct pc_adam);
};

// pc_kernels_select picks the variant for this CPU and returns its name.
const char *pc_kernels_select(void);

void pc_tanh_fd(float *y, float *d, const float *x, long n);
void pc_sigmoid_fd(float *y, float *d, const float *x, long n);
void pc_gelu_fd(float *y, float *d, const float *x, long n);
void pc_relu_fd(float *y, float *d, const float *x, long n);
void pc_leaky_fd(float *y, float *d, const float *x, long n);
void pc_add(float *dst, const float *a, const float *b, long n);
void pc_sub(float *dst, const float *a, const float *b, long n);
void pc_mul(float *dst, const float *a, const float *b, long n);
void pc_axpy(float alpha, const float *x, float *y, long n);
void pc_scale(float *dst, float s, const float *x, long n);
void pc_value_step(float *x, float *vel, const float *eps, const float *pull, float lr, float m, long n);
void pc_value_step_add(float *x, float *vel, const float *eps, const float *g, float lr, float m, long n);
double pc_sumsq(const float *x, long n);
void pc_add_row(float *m, long rows, long cols, const float *v);
void pc_adam(float *p, const float *g, float *m, float *v, long n, struct pc_adam h);

#endif

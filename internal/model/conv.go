package model

import (
	"fmt"

	"github.com/pctrain/pctrain/internal/tensor"
)

// Conv2D is a 2-D cross-correlation over NCHW feature maps, as PyTorch's
// nn.Conv2d: weight [out_ch, in_ch, kh, kw], bias [out_ch], zero padding.
// It runs as im2col followed by one GEMM per group of samples: enough
// samples side by side that the GEMM has ≥ groupColumns columns (deep
// layers have few output positions per sample). Groups depend only on the
// shapes and the batch size, so results stay deterministic.
type Conv2D[T tensor.Float] struct {
	InC, OutC, K, Stride, Pad int
	H, W                      int // input spatial size, fixed at build
	OH, OW                    int
	Wt, B                     *Param[T] // B is nil without bias
	// Feedback, if set, replaces Wt in the VJP with respect to the input:
	// a kernel of Wt's shape and layout (RULES.md §5); nil means Wt.
	Feedback *Mat[T]

	cols, dcols tensor.Mat[T]
	ybuf, dybuf tensor.Mat[T] // outputs / output gradients of a group, [OutC × G·P]
}

// groupColumns is the GEMM width a group of samples aims for. VGG-5's
// last convolution has 16 output positions per sample: one GEMM per sample
// ran at a fraction of OpenBLAS's speed. 256, 512 and 1024 measured alike
// within this machine's noise (bp step +30–50 % over per-sample GEMMs);
// 512 keeps the column buffer under 10 MB there.
const groupColumns = 512

// group returns how many samples share one GEMM.
func (c *Conv2D[T]) group() int { return max(1, (groupColumns+c.OH*c.OW-1)/(c.OH*c.OW)) }

var _ Layer[float64] = (*Conv2D[float64])(nil)

// NewConv2D returns a zero-initialised convolution for inputs of shape in
// ([C, H, W]); its parameters are named prefix+".weight" and ".bias".
func NewConv2D[T tensor.Float](prefix string, in Shape, outC, k, stride, pad int, bias bool) (*Conv2D[T], error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("conv needs [channels, height, width] input, got %v", in)
	}
	if k < 1 || stride < 1 || pad < 0 || outC < 1 {
		return nil, fmt.Errorf("conv: kernel %d, stride %d, padding %d, out %d: kernel, stride and out must be ≥ 1, padding ≥ 0", k, stride, pad, outC)
	}
	c := &Conv2D[T]{InC: in[0], OutC: outC, K: k, Stride: stride, Pad: pad, H: in[1], W: in[2]}
	c.OH = (c.H+2*pad-k)/stride + 1
	c.OW = (c.W+2*pad-k)/stride + 1
	if c.H+2*pad < k || c.W+2*pad < k {
		return nil, fmt.Errorf("conv: kernel %d larger than the padded input %dx%d", k, c.H+2*pad, c.W+2*pad)
	}
	kk := c.InC * k * k
	c.Wt = newParam[T](prefix+".weight", outC, kk, outC, c.InC, k, k)
	if bias {
		c.B = newParam[T](prefix+".bias", 1, outC, outC)
	}
	return c, nil
}

func (c *Conv2D[T]) Kind() string { return "conv" }

// Weight returns the kernel whose place Feedback takes in the input VJP.
func (c *Conv2D[T]) Weight() *Param[T] { return c.Wt }

// SetFeedback sets Feedback (nil: back to Wt).
func (c *Conv2D[T]) SetFeedback(b *Mat[T]) { c.Feedback = b }

func (c *Conv2D[T]) Fans() (int, int) { return c.InC * c.K * c.K, c.OutC * c.K * c.K }
func (c *Conv2D[T]) outShape() Shape  { return Shape{c.OutC, c.OH, c.OW} }
func (c *Conv2D[T]) Params() []*Param[T] {
	if c.B == nil {
		return []*Param[T]{c.Wt}
	}
	return []*Param[T]{c.Wt, c.B}
}

func (c *Conv2D[T]) OutShape(in Shape) (Shape, error) {
	if len(in) != 3 || in[0] != c.InC || in[1] != c.H || in[2] != c.W {
		return nil, fmt.Errorf("conv expects input [%d %d %d], got %v", c.InC, c.H, c.W, in)
	}
	return c.outShape(), nil
}

// im2col fills columns [off, off+OH·OW) of c.cols (K·K·C rows, row
// length c.cols.Cols) from one sample xs, the layout of Caffe's im2col: row
// (ch, kh, kw) holds, for every output position, the input pixel that
// kernel tap sees (0 in the padding).
func (c *Conv2D[T]) im2col(xs []T, off int) {
	p := c.OH * c.OW
	ld := c.cols.Cols
	hw := c.H * c.W
	r := 0
	for ch := 0; ch < c.InC; ch++ {
		plane := xs[ch*hw : (ch+1)*hw]
		for kh := 0; kh < c.K; kh++ {
			for kw := 0; kw < c.K; kw++ {
				dst := c.cols.Data[r*ld+off : r*ld+off+p]
				r++
				// Output columns whose input column is inside the image.
				lo, hi := c.validRange(kw, c.W, c.OW)
				for oh := 0; oh < c.OH; oh++ {
					row := dst[oh*c.OW : (oh+1)*c.OW]
					ih := oh*c.Stride - c.Pad + kh
					if ih < 0 || ih >= c.H || lo >= hi {
						clear(row)
						continue
					}
					clear(row[:lo])
					clear(row[hi:])
					src := plane[ih*c.W:]
					iw := lo*c.Stride - c.Pad + kw
					if c.Stride == 1 {
						copy(row[lo:hi], src[iw:iw+hi-lo])
						continue
					}
					for ow := lo; ow < hi; ow++ {
						row[ow] = src[iw]
						iw += c.Stride
					}
				}
			}
		}
	}
}

// validRange returns the output positions [lo, hi) along one axis whose
// input coordinate o·stride − pad + k lies in [0, size).
func (c *Conv2D[T]) validRange(k, size, outSize int) (int, int) {
	lo := 0
	for lo < outSize && lo*c.Stride-c.Pad+k < 0 {
		lo++
	}
	hi := outSize
	for hi > lo && (hi-1)*c.Stride-c.Pad+k >= size {
		hi--
	}
	return lo, hi
}

// col2im adds columns [off, off+OH·OW) of c.dcols back onto the sample
// gradient dxs.
func (c *Conv2D[T]) col2im(dxs []T, off int) {
	p := c.OH * c.OW
	ld := c.dcols.Cols
	hw := c.H * c.W
	r := 0
	for ch := 0; ch < c.InC; ch++ {
		plane := dxs[ch*hw : (ch+1)*hw]
		for kh := 0; kh < c.K; kh++ {
			for kw := 0; kw < c.K; kw++ {
				src := c.dcols.Data[r*ld+off : r*ld+off+p]
				r++
				lo, hi := c.validRange(kw, c.W, c.OW)
				for oh := 0; oh < c.OH; oh++ {
					ih := oh*c.Stride - c.Pad + kh
					if ih < 0 || ih >= c.H || lo >= hi {
						continue
					}
					row := src[oh*c.OW : (oh+1)*c.OW]
					dst := plane[ih*c.W:]
					iw := lo*c.Stride - c.Pad + kw
					for ow := lo; ow < hi; ow++ {
						dst[iw] += row[ow]
						iw += c.Stride
					}
				}
			}
		}
	}
}

// gather copies the rows n0… of m (one sample each, OutC × P in NCHW
// order) side by side into dst, [OutC × g·P]; scatter is the reverse.
func (c *Conv2D[T]) gather(dst *Mat[T], m *Mat[T], n0, g int) {
	p := c.OH * c.OW
	dst.Resize(c.OutC, g*p)
	for s := 0; s < g; s++ {
		row := m.Row(n0 + s)
		for oc := 0; oc < c.OutC; oc++ {
			copy(dst.Data[oc*g*p+s*p:oc*g*p+(s+1)*p], row[oc*p:(oc+1)*p])
		}
	}
}

func (c *Conv2D[T]) scatter(m *Mat[T], src *Mat[T], n0, g int) {
	p := c.OH * c.OW
	for s := 0; s < g; s++ {
		row := m.Row(n0 + s)
		for oc := 0; oc < c.OutC; oc++ {
			copy(row[oc*p:(oc+1)*p], src.Data[oc*g*p+s*p:oc*g*p+(s+1)*p])
		}
	}
}

// Forward computes, per group of g samples, Y (out_ch × g·OH·OW) =
// W · [im2col(x_1) … im2col(x_g)], whose blocks are the samples' outputs
// in NCHW order, then adds the bias.
func (c *Conv2D[T]) Forward(y, x *Mat[T]) {
	b := x.Rows
	p := c.OH * c.OW
	y.Resize(b, c.OutC*p)
	G := c.group()
	for n0 := 0; n0 < b; n0 += G {
		g := min(G, b-n0)
		c.cols.Resize(c.InC*c.K*c.K, g*p)
		for s := 0; s < g; s++ {
			c.im2col(x.Row(n0+s), s*p)
		}
		if g == 1 {
			yn := tensor.Mat[T]{Rows: c.OutC, Cols: p, Data: y.Row(n0)}
			tensor.Gemm(false, false, 1, c.Wt.Value, &c.cols, 0, &yn)
		} else {
			c.ybuf.Resize(c.OutC, g*p)
			tensor.Gemm(false, false, 1, c.Wt.Value, &c.cols, 0, &c.ybuf)
			c.scatter(y, &c.ybuf, n0, g)
		}
	}
	if c.B != nil {
		for n := 0; n < b; n++ {
			yn := y.Row(n)
			for oc, bv := range c.B.Value.Data {
				seg := yn[oc*p : (oc+1)*p]
				for q := range seg {
					seg[q] += bv
				}
			}
		}
	}
}

// VJP: per group, dW += alpha·dY·colsᵀ and db += alpha·Σ dY (per sample,
// in sample order), and dx = col2im(Wᵀ·dY).
func (c *Conv2D[T]) VJP(dx, x, _, dy *Mat[T], grads bool, alpha T) {
	b := dy.Rows
	p := c.OH * c.OW
	if dx != nil {
		dx.Resize(b, c.InC*c.H*c.W)
		dx.Zero()
	}
	G := c.group()
	for n0 := 0; n0 < b; n0 += G {
		g := min(G, b-n0)
		dyg := &tensor.Mat[T]{Rows: c.OutC, Cols: p, Data: dy.Row(n0)}
		if g > 1 {
			c.gather(&c.dybuf, dy, n0, g)
			dyg = &c.dybuf
		}
		if grads {
			c.cols.Resize(c.InC*c.K*c.K, g*p)
			for s := 0; s < g; s++ {
				c.im2col(x.Row(n0+s), s*p)
			}
			tensor.Gemm(false, true, alpha, dyg, &c.cols, 1, c.Wt.Grad)
			if c.B != nil {
				bg := c.B.Grad.Data
				for s := 0; s < g; s++ {
					dyn := dy.Row(n0 + s)
					for oc := range bg {
						var sum T
						for _, v := range dyn[oc*p : (oc+1)*p] {
							sum += v
						}
						bg[oc] += alpha * sum
					}
				}
			}
		}
		if dx != nil {
			c.dcols.Resize(c.InC*c.K*c.K, g*p)
			w := c.Wt.Value
			if c.Feedback != nil {
				w = c.Feedback
			}
			tensor.Gemm(true, false, 1, w, dyg, 0, &c.dcols)
			for s := 0; s < g; s++ {
				c.col2im(dx.Row(n0+s), s*p)
			}
		}
	}
}

// Pool2D is max or average pooling over K×K windows with stride Stride and
// no padding (windows that do not fit are dropped, as PyTorch's default).
type Pool2D[T tensor.Float] struct {
	Max             bool
	K, Stride       int
	C, H, W, OH, OW int
}

var _ Layer[float64] = (*Pool2D[float64])(nil)

// NewPool2D returns a pooling layer for inputs of shape in.
func NewPool2D[T tensor.Float](max bool, in Shape, k, stride int) (*Pool2D[T], error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("pooling needs [channels, height, width] input, got %v", in)
	}
	if k < 1 || stride < 1 || k > in[1] || k > in[2] {
		return nil, fmt.Errorf("pooling window %d (stride %d) does not fit input %v", k, stride, in)
	}
	return &Pool2D[T]{Max: max, K: k, Stride: stride, C: in[0], H: in[1], W: in[2],
		OH: (in[1]-k)/stride + 1, OW: (in[2]-k)/stride + 1}, nil
}

func (l *Pool2D[T]) Kind() string {
	if l.Max {
		return "maxpool"
	}
	return "avgpool"
}
func (l *Pool2D[T]) Params() []*Param[T] { return nil }
func (l *Pool2D[T]) OutShape(in Shape) (Shape, error) {
	if len(in) != 3 || in[0] != l.C || in[1] != l.H || in[2] != l.W {
		return nil, fmt.Errorf("%s expects input [%d %d %d], got %v", l.Kind(), l.C, l.H, l.W, in)
	}
	return Shape{l.C, l.OH, l.OW}, nil
}

// argmax returns the index in plane of the window's largest value, the
// first in row-major order on ties (PyTorch's CPU convention).
func (l *Pool2D[T]) argmax(plane []T, oh, ow int) int {
	best := (oh*l.Stride)*l.W + ow*l.Stride
	for kh := 0; kh < l.K; kh++ {
		for kw := 0; kw < l.K; kw++ {
			i := (oh*l.Stride+kh)*l.W + ow*l.Stride + kw
			if plane[i] > plane[best] {
				best = i
			}
		}
	}
	return best
}

func (l *Pool2D[T]) Forward(y, x *Mat[T]) {
	y.Resize(x.Rows, l.C*l.OH*l.OW)
	hw, ohw := l.H*l.W, l.OH*l.OW
	inv := 1 / T(l.K*l.K)
	for n := 0; n < x.Rows; n++ {
		xs, ys := x.Row(n), y.Row(n)
		for ch := 0; ch < l.C; ch++ {
			plane := xs[ch*hw : (ch+1)*hw]
			out := ys[ch*ohw : (ch+1)*ohw]
			for oh := 0; oh < l.OH; oh++ {
				for ow := 0; ow < l.OW; ow++ {
					if l.Max {
						out[oh*l.OW+ow] = plane[l.argmax(plane, oh, ow)]
						continue
					}
					var s T
					for kh := 0; kh < l.K; kh++ {
						for kw := 0; kw < l.K; kw++ {
							s += plane[(oh*l.Stride+kh)*l.W+ow*l.Stride+kw]
						}
					}
					out[oh*l.OW+ow] = s * inv
				}
			}
		}
	}
}

// ForwardDeriv is Forward that also records, for max pooling, the index of
// each window's maximum in d (as T: exact below 2^24), so VJPDeriv routes
// gradients without searching the windows again.
func (l *Pool2D[T]) ForwardDeriv(y, d, x *Mat[T]) {
	if !l.Max {
		l.Forward(y, x)
		return
	}
	y.Resize(x.Rows, l.C*l.OH*l.OW)
	d.Resize(x.Rows, l.C*l.OH*l.OW)
	hw, ohw := l.H*l.W, l.OH*l.OW
	for n := 0; n < x.Rows; n++ {
		xs, ys, ds := x.Row(n), y.Row(n), d.Row(n)
		for ch := 0; ch < l.C; ch++ {
			plane := xs[ch*hw : (ch+1)*hw]
			for oh := 0; oh < l.OH; oh++ {
				for ow := 0; ow < l.OW; ow++ {
					i := l.argmax(plane, oh, ow)
					o := ch*ohw + oh*l.OW + ow
					ys[o] = plane[i]
					ds[o] = T(ch*hw + i)
				}
			}
		}
	}
}

// VJPDeriv is VJP from the indices ForwardDeriv recorded.
func (l *Pool2D[T]) VJPDeriv(dx, d, dy *Mat[T]) {
	dx.Resize(dy.Rows, l.C*l.H*l.W)
	dx.Zero()
	if !l.Max {
		hw, ohw := l.H*l.W, l.OH*l.OW
		inv := 1 / T(l.K*l.K)
		for n := 0; n < dy.Rows; n++ {
			dxs, dys := dx.Row(n), dy.Row(n)
			for ch := 0; ch < l.C; ch++ {
				dplane := dxs[ch*hw : (ch+1)*hw]
				g := dys[ch*ohw : (ch+1)*ohw]
				for oh := 0; oh < l.OH; oh++ {
					for ow := 0; ow < l.OW; ow++ {
						gv := g[oh*l.OW+ow] * inv
						for kh := 0; kh < l.K; kh++ {
							row := dplane[(oh*l.Stride+kh)*l.W+ow*l.Stride:]
							for kw := 0; kw < l.K; kw++ {
								row[kw] += gv
							}
						}
					}
				}
			}
		}
		return
	}
	for n := 0; n < dy.Rows; n++ {
		dxs, dys, ds := dx.Row(n), dy.Row(n), d.Row(n)
		for o, g := range dys {
			dxs[int(ds[o])] += g
		}
	}
}

func (l *Pool2D[T]) VJP(dx, x, _, dy *Mat[T], _ bool, _ T) {
	if dx == nil {
		return
	}
	dx.Resize(x.Rows, x.Cols)
	dx.Zero()
	hw, ohw := l.H*l.W, l.OH*l.OW
	inv := 1 / T(l.K*l.K)
	for n := 0; n < x.Rows; n++ {
		xs, dxs, dys := x.Row(n), dx.Row(n), dy.Row(n)
		for ch := 0; ch < l.C; ch++ {
			plane := xs[ch*hw : (ch+1)*hw]
			dplane := dxs[ch*hw : (ch+1)*hw]
			g := dys[ch*ohw : (ch+1)*ohw]
			for oh := 0; oh < l.OH; oh++ {
				for ow := 0; ow < l.OW; ow++ {
					gv := g[oh*l.OW+ow]
					if l.Max {
						dplane[l.argmax(plane, oh, ow)] += gv
						continue
					}
					for kh := 0; kh < l.K; kh++ {
						for kw := 0; kw < l.K; kw++ {
							dplane[(oh*l.Stride+kh)*l.W+ow*l.Stride+kw] += gv * inv
						}
					}
				}
			}
		}
	}
}

// Flatten turns a [C, H, W] sample into a vector (the values are already
// stored flat, so it only copies).
type Flatten[T tensor.Float] struct{}

var _ Layer[float64] = (*Flatten[float64])(nil)

func (Flatten[T]) Kind() string                     { return "flatten" }
func (Flatten[T]) Params() []*Param[T]              { return nil }
func (Flatten[T]) OutShape(in Shape) (Shape, error) { return Shape{in.Size()}, nil }
func (Flatten[T]) Forward(y, x *Mat[T])             { y.CopyFrom(x) }
func (Flatten[T]) VJP(dx, _, _, dy *Mat[T], _ bool, _ T) {
	if dx != nil {
		dx.CopyFrom(dy)
	}
}

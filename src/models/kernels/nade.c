/*
 * Fused NADE log-likelihood and gradient, compiled to wasm32 + SIMD128 by scripts/build-kernels.sh
 * into nade-kernel.wasm.ts (the bytes embedded as base64). The math is src/models/nade.ts's:
 *
 *   a_d = c + sum_{j<d} W[:, j] x_j,   h_d = sigmoid(a_d),   l_d = b_d + V_d . h_d
 *   log p = sum_d x_d log sigmoid(l_d) + (1 - x_d) log sigmoid(-l_d)
 *
 * computed without the [B, D, H] tensor, using two facts:
 *   - h_d changes only after a non-zero x_{d-1}: positions between two non-zero pixels share one h
 *     (a "segment"), so sigmoids cost (nnz + 1) H per example, not D H;
 *   - the gradient of everything upstream of h is needed at segment boundaries only:
 *       dlogit_d = g (x_d sigmoid(-l_d) - (1 - x_d) sigmoid(l_d)) (= g (x_d - sigmoid(l_d))),
 *       db_d += dlogit_d,  dV_d += dlogit_d h_d,
 *       da_d = dlogit_d V_d (.) h_d (1 - h_d),  S_j = sum_{d>j} da_d,
 *       dW[:, j] += x_j S_j  (x_j != 0 only),  dc += sum_d da_d,
 *     and within a segment sum_d da_d = h (1 - h) (.) sum_d dlogit_d V_d.
 * Examples are processed in groups (up to gmax of them, d outermost), so each row of V and dV is
 * read once per group, not once per example.
 *
 * Layout (all float32, 16-byte aligned, Hp = H rounded up to a multiple of 4, zero padded):
 *   Wt [D, Hp] (W transposed), c [Hp], V [D, Hp], b [D], x [B, D], g [B] (upstream weights).
 * Outputs: logp [B] (may be 0), and in mode 1 dWt [D, Hp], dc [Hp], dV [D, Hp], db [D]
 * (overwritten, summed over the batch).
 * Scratch: nade_scratch_floats(D, Hp, gmax, cap) floats; cap >= D segments of Hp floats.
 *
 * No libc: exp / log1p are polynomial (|relative error| < 2e-7 on the ranges used, checked by
 * tests/models/nade-kernel.test.ts against Math.exp / Math.log1p).
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name))) 

typedef float f4 __attribute__((vector_size(16), aligned(16)));
typedef int32_t i4 __attribute__((vector_size(16), aligned(16)));

static inline f4 splat(float v) { return (f4){v, v, v, v}; }
static inline f4 vmin(f4 a, f4 b) { return (f4)wasm_f32x4_pmin((v128_t)a, (v128_t)b); }
static inline f4 vmax(f4 a, f4 b) { return (f4)wasm_f32x4_pmax((v128_t)a, (v128_t)b); }
static inline f4 vabs(f4 a) { return (f4)wasm_f32x4_abs((v128_t)a); }
static inline float hsum(f4 v) { return (v[0] + v[1]) + (v[2] + v[3]); }

/*
 * e^x, x clamped to [-87, 88] (no overflow, no denormal scale): Cephes expf's range reduction and
 * polynomial. n = round(x log2 e) by the 1.5 * 2^23 trick: adding it leaves n in the low mantissa
 * bits of t (round to nearest), so 2^n is ((bits of t) + 127) << 23 (the constant's own low 9 bits
 * are zero), with no float-to-int conversion.
 */
static inline f4 vexp(f4 x) {
  x = vmin(vmax(x, splat(-87.0f)), splat(88.0f));
  f4 t = x * splat(1.44269504088896341f) + splat(12582912.0f);
  f4 n = t - splat(12582912.0f);
  f4 r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  f4 p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  f4 y = p * (r * r) + r + splat(1.0f);
  i4 e = ((i4)t + 127) << 23;
  return y * (f4)e;
}

static inline f4 vsigmoid(f4 a) { return splat(1.0f) / (splat(1.0f) + vexp(-a)); }

/* log(1 + u) for u in [0, 1]: 2 atanh(s), s = u / (2 + u) <= 1/3, series to s^15. */
static inline f4 vlog1p01(f4 u) {
  f4 s = u / (splat(2.0f) + u);
  f4 s2 = s * s;
  f4 p = splat(1.0f / 15);
  p = p * s2 + splat(1.0f / 13);
  p = p * s2 + splat(1.0f / 11);
  p = p * s2 + splat(1.0f / 9);
  p = p * s2 + splat(1.0f / 7);
  p = p * s2 + splat(1.0f / 5);
  p = p * s2 + splat(1.0f / 3);
  p = p * s2 + splat(1.0f);
  return splat(2.0f) * s * p;
}

/* softplus(l) = max(l, 0) + log(1 + e^-|l|) */
static inline f4 vsoftplus(f4 l) { return vmax(l, splat(0.0f)) + vlog1p01(vexp(-vabs(l))); }

/* Exposed for the accuracy test: out[i] = f(in[i]) for f = exp (0), sigmoid (1), softplus (2); n % 4 == 0. */
EXPORT(nade_math) void nade_math(int which, const float* in, float* out, int n) {
  for (int i = 0; i < n; i += 4) {
    f4 v = *(const f4*)(in + i);
    *(f4*)(out + i) = which == 0 ? vexp(v) : which == 1 ? vsigmoid(v) : vsoftplus(v);
  }
}

static inline int round4(int n) { return (n + 3) & ~3; }

/* Floats of scratch that nade_run needs (it uses no other memory: no stack, no globals, so two
 * threads may run it at once on one shared memory with separate scratch and outputs). */
EXPORT(nade_scratch_floats) int nade_scratch_floats(int D, int Hp, int gmax, int cap) {
  int Dp = round4(D);
  return 3 * gmax * Hp      /* A, U, S */
       + 2 * gmax * Dp      /* logits / dlogits, padded x */
       + cap * Hp           /* segments */
       + 6 * gmax + cap     /* hcur, ucur, cur, gl, lo; prev */
       + 8;
}

/* Wt[d, k] = W[k, d] (k < H), 0 for H <= k < Hp. */
EXPORT(nade_pack_w) void nade_pack_w(const float* W, float* Wt, int H, int D, int Hp) {
  for (int d0 = 0; d0 < D; d0 += 16) {
    int d1 = d0 + 16 < D ? d0 + 16 : D;
    for (int k = 0; k < H; k++)
      for (int d = d0; d < d1; d++) Wt[d * Hp + k] = W[k * D + d];
  }
  for (int d = 0; d < D; d++)
    for (int k = H; k < Hp; k++) Wt[d * Hp + k] = 0;
}

/* W[k, d] = Wt[d, k] for k < H. */
EXPORT(nade_unpack_w) void nade_unpack_w(const float* Wt, float* W, int H, int D, int Hp) {
  for (int k0 = 0; k0 < H; k0 += 16) {
    int k1 = k0 + 16 < H ? k0 + 16 : H;
    for (int d = 0; d < D; d++)
      for (int k = k0; k < k1; k++) W[k * D + d] = Wt[d * Hp + k];
  }
}

/* Rows of length H to rows of length Hp (zero padded) and back; in place is fine when H == Hp. */
EXPORT(nade_pad_rows) void nade_pad_rows(const float* src, float* dst, int R, int H, int Hp) {
  for (int r = R - 1; r >= 0; r--) {  /* backwards: dst may overlap src at the same start */
    for (int k = Hp - 1; k >= H; k--) dst[r * Hp + k] = 0;
    for (int k = H - 1; k >= 0; k--) dst[r * Hp + k] = src[r * H + k];
  }
}
EXPORT(nade_unpad_rows) void nade_unpad_rows(const float* src, float* dst, int R, int H, int Hp) {
  for (int r = 0; r < R; r++)
    for (int k = 0; k < H; k++) dst[r * H + k] = src[r * Hp + k];
}

/* dst += src (n % 4 == 0): the gradients of two halves of a batch. */
EXPORT(nade_add) void nade_add(float* dst, const float* src, int n) {
  for (int k = 0; k < n; k += 4) *(f4*)(dst + k) += *(const f4*)(src + k);
}

static inline void vzero(float* p, int n) {
  for (int k = 0; k < n; k += 4) *(f4*)(p + k) = splat(0.0f);
}

/* out[e] = v . h[e] for e < n. */
static void dots(int Hp, const float* v, float* const* h, int n, float* out) {
  int e = 0;
  for (; e + 4 <= n; e += 4) {
    const float *h0 = h[e], *h1 = h[e + 1], *h2 = h[e + 2], *h3 = h[e + 3];
    f4 a0 = splat(0), a1 = splat(0), a2 = splat(0), a3 = splat(0);
    for (int k = 0; k < Hp; k += 4) {
      f4 vv = *(const f4*)(v + k);
      a0 += vv * *(const f4*)(h0 + k);
      a1 += vv * *(const f4*)(h1 + k);
      a2 += vv * *(const f4*)(h2 + k);
      a3 += vv * *(const f4*)(h3 + k);
    }
    out[e] = hsum(a0);
    out[e + 1] = hsum(a1);
    out[e + 2] = hsum(a2);
    out[e + 3] = hsum(a3);
  }
  for (; e < n; e++) {
    const float* h0 = h[e];
    f4 a0 = splat(0), a1 = splat(0);
    int k = 0;
    for (; k + 8 <= Hp; k += 8) {
      a0 += *(const f4*)(v + k) * *(const f4*)(h0 + k);
      a1 += *(const f4*)(v + k + 4) * *(const f4*)(h0 + k + 4);
    }
    for (; k < Hp; k += 4) a0 += *(const f4*)(v + k) * *(const f4*)(h0 + k);
    out[e] = hsum(a0 + a1);
  }
}

/* dv += sum_e gl[e] h[e];  u[e] += gl[e] v  (e < n). */
static void back_row(int Hp, const float* v, float* dv, float* const* h, float* const* u, const float* gl, int n) {
  int e = 0;
  for (; e + 4 <= n; e += 4) {
    const float *h0 = h[e], *h1 = h[e + 1], *h2 = h[e + 2], *h3 = h[e + 3];
    float *u0 = u[e], *u1 = u[e + 1], *u2 = u[e + 2], *u3 = u[e + 3];
    f4 g0 = splat(gl[e]), g1 = splat(gl[e + 1]), g2 = splat(gl[e + 2]), g3 = splat(gl[e + 3]);
    for (int k = 0; k < Hp; k += 4) {
      f4 vv = *(const f4*)(v + k);
      *(f4*)(dv + k) += (g0 * *(const f4*)(h0 + k) + g1 * *(const f4*)(h1 + k)) + (g2 * *(const f4*)(h2 + k) + g3 * *(const f4*)(h3 + k));
      *(f4*)(u0 + k) += g0 * vv;
      *(f4*)(u1 + k) += g1 * vv;
      *(f4*)(u2 + k) += g2 * vv;
      *(f4*)(u3 + k) += g3 * vv;
    }
  }
  for (; e < n; e++) {
    const float* h0 = h[e];
    float* u0 = u[e];
    f4 g0 = splat(gl[e]);
    for (int k = 0; k < Hp; k += 4) {
      *(f4*)(dv + k) += g0 * *(const f4*)(h0 + k);
      *(f4*)(u0 + k) += g0 * *(const f4*)(v + k);
    }
  }
}

/* h = sigmoid(a) */
static inline void sigmoid_row(int Hp, const float* a, float* h) {
  for (int k = 0; k < Hp; k += 4) *(f4*)(h + k) = vsigmoid(*(const f4*)(a + k));
}

/* s += h (1 - h) u;  u = 0 */
static inline void close_segment(int Hp, const float* h, float* u, float* s) {
  for (int k = 0; k < Hp; k += 4) {
    f4 hh = *(const f4*)(h + k);
    *(f4*)(s + k) += hh * (splat(1.0f) - hh) * *(const f4*)(u + k);
    *(f4*)(u + k) = splat(0.0f);
  }
}

/*
 * mode 0: log p only (logp[B]); g, dWt, dc, dV, db unused.
 * mode 1: log p (when logp != 0) and the gradient of sum_b g[b] log p_b into dWt, dc, dV, db.
 */
EXPORT(nade_run) void nade_run(int mode, int B, int D, int Hp, const float* Wt, const float* c, const float* V, const float* b,
                               const float* x, const float* g, float* logp, float* dWt, float* dc, float* dV, float* db,
                               float* scratch, int gmax, int cap) {
  const int Dp = round4(D);
  float* A = scratch;                 /* [gmax, Hp] pre-activations */
  float* U = A + gmax * Hp;           /* [gmax, Hp] sum of dlogit V over the open segment */
  float* S = U + gmax * Hp;           /* [gmax, Hp] sum of da over the closed segments */
  float* L = S + gmax * Hp;           /* [gmax, Dp] logits, then dlogits */
  float* X = L + gmax * Dp;           /* [gmax, Dp] x of the group, zero padded */
  float* seg = X + gmax * Dp;         /* [cap, Hp] hidden vectors */
  float** hcur = (float**)(seg + cap * Hp); /* [gmax] current segment of each example */
  float** ucur = hcur + gmax;         /* [gmax] U rows (pointer table for back_row) */
  int* prev = (int*)(ucur + gmax);    /* [cap] previous segment of the same example, -1 for none */
  int* cur = prev + cap;              /* [gmax] current segment index */
  float* gl = (float*)(cur + gmax);   /* [gmax] dlogits of one position */
  float* lo = gl + gmax;              /* [gmax] dot products of one position */

  if (mode == 1) {
    vzero(dWt, D * Hp);
    vzero(dV, D * Hp);
    vzero(dc, Hp);
    for (int d = 0; d < D; d++) db[d] = 0;
  }

  for (int b0 = 0; b0 < B;) {
    /* The group: up to gmax examples whose segments fit in cap (mode 1; mode 0 needs one each). */
    int n = 0, used = 0;
    while (b0 + n < B && n < gmax) {
      int need = 1;
      if (mode == 1) {
        const float* xr = x + (b0 + n) * D;
        for (int d = 0; d < D - 1; d++) need += xr[d] != 0.0f;
      }
      if (n > 0 && used + need > cap) break;
      used += need;
      n++;
    }
    for (int e = 0; e < n; e++) {
      const float* xr = x + (b0 + e) * D;
      float* xe = X + e * Dp;
      for (int d = 0; d < D; d++) xe[d] = xr[d];
      for (int d = D; d < Dp; d++) xe[d] = 0;
    }

    /* Forward. */
    int nseg = 0;
    for (int e = 0; e < n; e++) {
      float* a = A + e * Hp;
      for (int k = 0; k < Hp; k++) a[k] = c[k];
      cur[e] = nseg;
      prev[nseg] = -1;
      hcur[e] = seg + nseg * Hp;
      sigmoid_row(Hp, a, hcur[e]);
      nseg++;
      ucur[e] = U + e * Hp;
    }
    for (int d = 0; d < D; d++) {
      const float* vd = V + d * Hp;
      dots(Hp, vd, hcur, n, lo);
      for (int e = 0; e < n; e++) L[e * Dp + d] = b[d] + lo[e];
      if (d == D - 1) break;
      const float* wd = Wt + d * Hp;
      for (int e = 0; e < n; e++) {
        float xv = X[e * Dp + d];
        if (xv == 0.0f) continue;
        float* a = A + e * Hp;
        f4 xs = splat(xv);
        for (int k = 0; k < Hp; k += 4) *(f4*)(a + k) += xs * *(const f4*)(wd + k);
        if (mode == 1) {
          prev[nseg] = cur[e];
          cur[e] = nseg;
          hcur[e] = seg + nseg * Hp;
          nseg++;
        }
        sigmoid_row(Hp, a, hcur[e]);
      }
    }

    /* log p; in mode 1 L becomes dlogit = g (x - sigmoid(l)). */
    for (int e = 0; e < n; e++) {
      float* l = L + e * Dp;
      const float* xe = X + e * Dp;
      for (int d = D; d < Dp; d++) l[d] = 0;
      if (logp) {
        f4 acc = splat(0.0f);
        for (int d = 0; d < Dp; d += 4) {
          /* -(x softplus(-l) + (1 - x) softplus(l)), with no cancellation between l and softplus(l) */
          f4 lv = *(const f4*)(l + d);
          f4 xv = *(const f4*)(xe + d);
          f4 t = -(xv * vmax(-lv, splat(0.0f)) + (splat(1.0f) - xv) * vmax(lv, splat(0.0f)) + vlog1p01(vexp(-vabs(lv))));
          if (d + 4 > D) { /* the padded tail: keep lanes d + i < D (a mask: no stack memory) */
            i4 lane = (i4){d, d + 1, d + 2, d + 3};
            t = (f4)((i4)t & (lane < D));
          }
          acc += t;
        }
        logp[b0 + e] = hsum(acc);
      }
      if (mode == 1) {
        /* x - sigmoid(l) as x sigmoid(-l) - (1 - x) sigmoid(l): no 1 - sigmoid(l) rounding for confident l */
        f4 ge = splat(g[b0 + e]);
        for (int d = 0; d < Dp; d += 4) {
          f4 lv = *(const f4*)(l + d);
          f4 xv = *(const f4*)(xe + d);
          f4 t = vexp(-lv);
          f4 sp = splat(1.0f) / (splat(1.0f) + t); /* sigmoid(l) */
          *(f4*)(l + d) = ge * (xv * (t * sp) - (splat(1.0f) - xv) * sp);
        }
      }
    }

    if (mode == 1) {
      /* Backward, d from D-1 down to 0. */
      for (int e = 0; e < n; e++) {
        vzero(U + e * Hp, Hp);
        vzero(S + e * Hp, Hp);
      }
      for (int d = D - 1; d >= 0; d--) {
        float gsum = 0;
        for (int e = 0; e < n; e++) {
          gl[e] = L[e * Dp + d];
          gsum += gl[e];
        }
        db[d] += gsum;
        back_row(Hp, V + d * Hp, dV + d * Hp, hcur, ucur, gl, n);
        if (d == 0) break;
        /* Segments that start at d: close them; dW[:, d-1] += x_{d-1} S. */
        float* wd = dWt + (d - 1) * Hp;
        for (int e = 0; e < n; e++) {
          float xv = X[e * Dp + d - 1];
          if (xv == 0.0f) continue;
          float* s = S + e * Hp;
          close_segment(Hp, hcur[e], U + e * Hp, s);
          f4 xs = splat(xv);
          for (int k = 0; k < Hp; k += 4) *(f4*)(wd + k) += xs * *(const f4*)(s + k);
          cur[e] = prev[cur[e]];
          hcur[e] = seg + cur[e] * Hp;
        }
      }
      for (int e = 0; e < n; e++) {
        float* s = S + e * Hp;
        close_segment(Hp, hcur[e], U + e * Hp, s);
        for (int k = 0; k < Hp; k += 4) *(f4*)(dc + k) += *(const f4*)(s + k);
      }
    }
    b0 += n;
  }
}

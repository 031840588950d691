/*
 * The fused Adam update of src/models/kernels/adam.ts, in wasm SIMD128: one pass over a variable
 *
 *   m' = m*b1 + g*ob1      v' = v*b2 + (g*g)*ob2
 *   w' = ((m'/a1) / (sqrt(v'/a2) + eps)) * neglr + w
 *
 * every operation a float32 IEEE operation in tf's order (wasm has no fused multiply-add, and
 * without -ffast-math clang does not reassociate), so the result is bit for bit tf's Adam.
 * The module imports tfjs's own memory: the pointers are tfjs tensors' memory offsets. It must not
 * touch the linear-memory stack or any global (checked by the build script), since that memory is
 * tfjs's.
 */
#include <wasm_simd128.h>

__attribute__((export_name("adam_update")))
void adam_update(const float *w, const float *m, const float *v, const float *g,
                 float *wo, float *mo, float *vo, int n,
                 float b1, float b2, float ob1, float ob2, float a1, float a2, float eps, float neglr) {
  const v128_t vb1 = wasm_f32x4_splat(b1), vb2 = wasm_f32x4_splat(b2);
  const v128_t vob1 = wasm_f32x4_splat(ob1), vob2 = wasm_f32x4_splat(ob2);
  const v128_t va1 = wasm_f32x4_splat(a1), va2 = wasm_f32x4_splat(a2);
  const v128_t veps = wasm_f32x4_splat(eps), vlr = wasm_f32x4_splat(neglr);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gi = wasm_v128_load(g + i);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), vb1), wasm_f32x4_mul(gi, vob1));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), vb2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), vob2));
    wasm_v128_store(mo + i, mi);
    wasm_v128_store(vo + i, vi);
    const v128_t mh = wasm_f32x4_div(mi, va1);
    const v128_t vh = wasm_f32x4_div(vi, va2);
    const v128_t u = wasm_f32x4_mul(wasm_f32x4_div(mh, wasm_f32x4_add(wasm_f32x4_sqrt(vh), veps)), vlr);
    wasm_v128_store(wo + i, wasm_f32x4_add(u, wasm_v128_load(w + i)));
  }
  for (; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * ob1;
    const float vi = v[i] * b2 + (gi * gi) * ob2;
    mo[i] = mi;
    vo[i] = vi;
    wo[i] = ((mi / a1) / (__builtin_sqrtf(vi / a2) + eps)) * neglr + w[i];
  }
}

/* Every op against a double-precision reference written here, in float32
 * and float64 on random data, plus the bad calls each op must refuse. */
#include <math.h>
#include <stdlib.h>

#include "check.h"

static xrt_device_t* cpu;
static unsigned rng_state = 12345u;

static double uniform(void) { /* in [-1, 1) */
  rng_state = rng_state * 1664525u + 1013904223u;
  return (double)(rng_state >> 8) / (double)(1u << 24) * 2.0 - 1.0;
}

/* A tensor of `dtype` (float32/float64) filled from `values`. */
static xrt_tensor_t* make(xrt_dtype_t dtype, int32_t ndim, const int64_t* shape, double* values) {
  xrt_tensor_t* t = NULL;
  if (xrt_tensor_create(cpu, dtype, ndim, shape, &t) != XRT_OK) return NULL;
  int64_t n = 1;
  for (int32_t i = 0; i < ndim; ++i) n *= shape[i];
  void* data = NULL;
  xrt_tensor_data(t, &data);
  for (int64_t i = 0; i < n; ++i) {
    values[i] = uniform();
    if (dtype == XRT_FLOAT32) {
      ((float*)data)[i] = (float)values[i];
      values[i] = (float)values[i];
    } else {
      ((double*)data)[i] = values[i];
    }
  }
  return t;
}

static double max_error(const xrt_tensor_t* t, const double* expected, int64_t n) {
  void* data = NULL;
  xrt_tensor_info_t info = {sizeof info};
  xrt_tensor_info(t, &info);
  if (info.numel != n) return INFINITY;
  xrt_tensor_data(t, &data);
  double err = 0;
  for (int64_t i = 0; i < n; ++i) {
    double got = info.dtype == XRT_FLOAT32 ? ((float*)data)[i] : ((double*)data)[i];
    double e = fabs(got - expected[i]) / (1.0 + fabs(expected[i]));
    if (!(e <= err)) err = e; /* NaN propagates */
  }
  return err;
}

static double tolerance(xrt_dtype_t dtype) { return dtype == XRT_FLOAT32 ? 1e-5 : 1e-12; }

static void test_matmul(xrt_dtype_t dtype) {
  /* (2, 1, 5, 7) @ (3, 7, 6) -> (2, 3, 5, 6), with batch broadcasting. */
  const int64_t as[4] = {2, 1, 5, 7}, bs[3] = {3, 7, 6};
  double a[70], b[126], ref[180];
  xrt_tensor_t* ta = make(dtype, 4, as, a);
  xrt_tensor_t* tb = make(dtype, 3, bs, b);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int m = 0; m < 5; ++m)
        for (int n = 0; n < 6; ++n) {
          double s = 0;
          for (int k = 0; k < 7; ++k) s += a[(i * 5 + m) * 7 + k] * b[(j * 7 + k) * 6 + n];
          ref[((i * 3 + j) * 5 + m) * 6 + n] = s;
        }
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_matmul(ta, tb, NULL, &out));
  int32_t ndim = 0;
  const int64_t* shape = NULL;
  CHECK_OK(xrt_tensor_shape(out, &ndim, &shape));
  CHECK(ndim == 4 && shape[0] == 2 && shape[1] == 3 && shape[2] == 5 && shape[3] == 6);
  CHECK(max_error(out, ref, 180) < tolerance(dtype) * 10);
  xrt_tensor_release(out);

  /* vector @ matrix drops the vector axis, as numpy does. */
  const int64_t vs[1] = {7}, ms[2] = {7, 6};
  double v[7], m2[42], vref[6];
  xrt_tensor_t* tv = make(dtype, 1, vs, v);
  xrt_tensor_t* tm = make(dtype, 2, ms, m2);
  for (int n = 0; n < 6; ++n) {
    vref[n] = 0;
    for (int k = 0; k < 7; ++k) vref[n] += v[k] * m2[k * 6 + n];
  }
  CHECK_OK(xrt_matmul(tv, tm, NULL, &out));
  CHECK_OK(xrt_tensor_shape(out, &ndim, &shape));
  CHECK(ndim == 1 && shape[0] == 6);
  CHECK(max_error(out, vref, 6) < tolerance(dtype) * 10);
  xrt_tensor_release(out);

  out = NULL;
  CHECK_ERROR(xrt_matmul(tm, ta, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "(6 != 5)");
  CHECK_ERROR(xrt_matmul(ta, NULL, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "'b' is NULL");
  CHECK(out == NULL);
  xrt_tensor_release(tv);
  xrt_tensor_release(tm);
  xrt_tensor_release(ta);
  xrt_tensor_release(tb);
}

static void test_add_and_gelu(xrt_dtype_t dtype) {
  const int64_t as[3] = {4, 1, 5}, bs[2] = {3, 1};
  double a[20], b[3], ref[60];
  xrt_tensor_t* ta = make(dtype, 3, as, a);
  xrt_tensor_t* tb = make(dtype, 2, bs, b);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 5; ++k) ref[(i * 3 + j) * 5 + k] = a[i * 5 + k] + b[j];
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_add(ta, tb, NULL, &out));
  CHECK(max_error(out, ref, 60) < tolerance(dtype));
  xrt_tensor_release(out);

  double gref[20];
  for (int i = 0; i < 20; ++i) gref[i] = a[i] * 0.5 * (1.0 + erf(a[i] / sqrt(2.0)));
  CHECK_OK(xrt_gelu(ta, NULL, &out));
  CHECK(max_error(out, gref, 20) < tolerance(dtype));
  xrt_tensor_release(out);

  const int64_t cs[1] = {4};
  double c[4];
  xrt_tensor_t* tc = make(dtype, 1, cs, c);
  CHECK_ERROR(xrt_add(ta, tc, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "do not broadcast");
  xrt_tensor_release(tc);
  xrt_tensor_release(ta);
  xrt_tensor_release(tb);
}

static void test_softmax(xrt_dtype_t dtype) {
  const int64_t s[3] = {3, 4, 5};
  double x[60], ref[60];
  xrt_tensor_t* t = make(dtype, 3, s, x);
  /* Softmax over the middle axis. */
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 5; ++k) {
      double mx = -INFINITY, sum = 0;
      for (int j = 0; j < 4; ++j) mx = fmax(mx, x[(i * 4 + j) * 5 + k]);
      for (int j = 0; j < 4; ++j) sum += exp(x[(i * 4 + j) * 5 + k] - mx);
      for (int j = 0; j < 4; ++j) ref[(i * 4 + j) * 5 + k] = exp(x[(i * 4 + j) * 5 + k] - mx) / sum;
    }
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_softmax(t, -2, NULL, &out));
  CHECK(max_error(out, ref, 60) < tolerance(dtype));
  xrt_tensor_release(out);
  CHECK_ERROR(xrt_softmax(t, 3, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "axis 3");
  xrt_tensor_release(t);
}

static void test_norms(xrt_dtype_t dtype) {
  const int64_t s[2] = {6, 33}, ws[1] = {33}, bad_ws[1] = {32};
  double x[198], w[33], b[33], bad[32], ln[198], rms[198];
  xrt_tensor_t* tx = make(dtype, 2, s, x);
  xrt_tensor_t* tw = make(dtype, 1, ws, w);
  xrt_tensor_t* tb = make(dtype, 1, ws, b);
  xrt_tensor_t* tbad = make(dtype, 1, bad_ws, bad);
  const double eps = 1e-5;
  for (int r = 0; r < 6; ++r) {
    double mean = 0, var = 0, sq = 0;
    for (int c = 0; c < 33; ++c) mean += x[r * 33 + c] / 33;
    for (int c = 0; c < 33; ++c) {
      var += (x[r * 33 + c] - mean) * (x[r * 33 + c] - mean) / 33;
      sq += x[r * 33 + c] * x[r * 33 + c] / 33;
    }
    for (int c = 0; c < 33; ++c) {
      ln[r * 33 + c] = (x[r * 33 + c] - mean) / sqrt(var + eps) * w[c] + b[c];
      rms[r * 33 + c] = x[r * 33 + c] / sqrt(sq + eps) * w[c];
    }
  }
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_layer_norm(tx, tw, tb, eps, NULL, &out));
  CHECK(max_error(out, ln, 198) < tolerance(dtype) * 10);
  xrt_tensor_release(out);
  CHECK_OK(xrt_rms_norm(tx, tw, eps, NULL, &out));
  CHECK(max_error(out, rms, 198) < tolerance(dtype) * 10);
  xrt_tensor_release(out);
  out = NULL;
  CHECK_ERROR(xrt_layer_norm(tx, tbad, tb, eps, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "(32,)");
  CHECK_ERROR(xrt_rms_norm(tx, tw, -1.0, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "eps");
  CHECK(out == NULL);
  xrt_tensor_release(tx);
  xrt_tensor_release(tw);
  xrt_tensor_release(tb);
  xrt_tensor_release(tbad);
}

/* layer_norm_backward through the several-outputs entry point: dx against
 * the closed form, dweight and dbias against their column sums. */
static void test_norm_backward(xrt_dtype_t dtype) {
  enum { R = 5, N = 17 };
  const int64_t s[2] = {R, N}, ws[1] = {N};
  double g[R * N], x[R * N], w[N], dx[R * N], dw[N] = {0}, db[N] = {0};
  xrt_tensor_t* tg = make(dtype, 2, s, g);
  xrt_tensor_t* tx = make(dtype, 2, s, x);
  xrt_tensor_t* tw = make(dtype, 1, ws, w);
  const double eps = 1e-3;
  for (int r = 0; r < R; ++r) {
    double mean = 0, var = 0, mean_g = 0, mean_gx = 0;
    for (int c = 0; c < N; ++c) mean += x[r * N + c] / N;
    for (int c = 0; c < N; ++c) var += (x[r * N + c] - mean) * (x[r * N + c] - mean) / N;
    const double rstd = 1.0 / sqrt(var + eps);
    for (int c = 0; c < N; ++c) {
      const double xhat = (x[r * N + c] - mean) * rstd, gw = g[r * N + c] * w[c];
      mean_g += gw / N;
      mean_gx += gw * xhat / N;
      dw[c] += g[r * N + c] * xhat;
      db[c] += g[r * N + c];
    }
    for (int c = 0; c < N; ++c) {
      const double xhat = (x[r * N + c] - mean) * rstd;
      dx[r * N + c] = rstd * (g[r * N + c] * w[c] - mean_g - xhat * mean_gx);
    }
  }
  const xrt_tensor_t* inputs[3] = {tg, tx, tw};
  const xrt_attr_t attr = {"eps", XRT_ATTR_FLOAT, 0, eps};
  xrt_tensor_t* outs[3] = {NULL, NULL, NULL};
  CHECK_OK(xrt_op_run_outputs("layer_norm_backward", inputs, 3, &attr, 1, NULL, outs, 3));
  CHECK(max_error(outs[0], dx, R * N) < tolerance(dtype) * 100);
  CHECK(max_error(outs[1], dw, N) < tolerance(dtype) * 100);
  CHECK(max_error(outs[2], db, N) < tolerance(dtype) * 100);
  for (int i = 0; i < 3; ++i) xrt_tensor_release(outs[i]);
  xrt_tensor_t* one = NULL;
  CHECK_ERROR(xrt_op_run("layer_norm_backward", inputs, 3, &attr, 1, NULL, &one),
              XRT_ERROR_INVALID_ARGUMENT, "has 3 outputs");
  CHECK_ERROR(xrt_op_run_outputs("layer_norm_backward", inputs, 3, &attr, 1, NULL, NULL, 3),
              XRT_ERROR_INVALID_ARGUMENT, "outputs is NULL");
  xrt_tensor_release(tg);
  xrt_tensor_release(tx);
  xrt_tensor_release(tw);
}

static void test_attention(xrt_dtype_t dtype) {
  /* B=1, H=2, Lq=3, Lk=5, D=4, causal (top-left: key j visible when j <= i). */
  const int64_t qs[4] = {1, 2, 3, 4}, ks[4] = {1, 2, 5, 4};
  double q[24], k[40], v[40], ref[24];
  xrt_tensor_t* tq = make(dtype, 4, qs, q);
  xrt_tensor_t* tk = make(dtype, 4, ks, k);
  xrt_tensor_t* tv = make(dtype, 4, ks, v);
  const double scale = 0.5;
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 3; ++i) {
      double p[5], mx = -INFINITY, sum = 0;
      for (int j = 0; j <= i; ++j) {
        p[j] = 0;
        for (int d = 0; d < 4; ++d) p[j] += q[(h * 3 + i) * 4 + d] * k[(h * 5 + j) * 4 + d];
        p[j] *= scale;
        mx = fmax(mx, p[j]);
      }
      for (int j = 0; j <= i; ++j) sum += (p[j] = exp(p[j] - mx));
      for (int d = 0; d < 4; ++d) {
        double o = 0;
        for (int j = 0; j <= i; ++j) o += p[j] / sum * v[(h * 5 + j) * 4 + d];
        ref[(h * 3 + i) * 4 + d] = o;
      }
    }
  xrt_tensor_t* out = NULL;
  CHECK_OK(xrt_attention(tq, tk, tv, 1, scale, NULL, &out));
  CHECK(max_error(out, ref, 24) < tolerance(dtype) * 10);
  xrt_tensor_release(out);
  out = NULL;
  CHECK_ERROR(xrt_attention(tq, tq, tv, 0, 0, NULL, &out), XRT_ERROR_INVALID_ARGUMENT,
              "sequence lengths of k and v differ");
  xrt_tensor_release(tq);
  xrt_tensor_release(tk);
  xrt_tensor_release(tv);
}

static void test_dispatch_errors(void) {
  const int64_t s[1] = {4};
  xrt_tensor_t *f32 = NULL, *f64 = NULL, *i32 = NULL, *out = NULL;
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, s, &f32));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT64, 1, s, &f64));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_INT32, 1, s, &i32));
  CHECK_ERROR(xrt_add(f32, f64, NULL, &out), XRT_ERROR_INVALID_ARGUMENT,
              "a is float32, b is float64");
  CHECK_ERROR(xrt_add(i32, i32, NULL, &out), XRT_ERROR_UNSUPPORTED, "'add' on cpu with dtype int32");
  const xrt_tensor_t* inputs[1] = {f32};
  CHECK_ERROR(xrt_op_run("conv3d", inputs, 1, NULL, 0, NULL, &out), XRT_ERROR_NOT_FOUND, "conv3d");
  CHECK_ERROR(xrt_op_run(NULL, inputs, 1, NULL, 0, NULL, &out), XRT_ERROR_INVALID_ARGUMENT, "NULL");
  const xrt_attr_t wrong[1] = {{"axes", XRT_ATTR_INT, 0, 0}};
  CHECK_ERROR(xrt_op_run("softmax", inputs, 1, wrong, 1, NULL, &out), XRT_ERROR_INVALID_ARGUMENT,
              "'axes'");
  CHECK_ERROR(xrt_gelu(f32, NULL, NULL), XRT_ERROR_INVALID_ARGUMENT, "out is NULL");
  CHECK(out == NULL);
  /* A forced implementation: the named kernel runs, an unknown name lists
   * the registered ones. */
  CHECK_OK(xrt_op_run_impl("gelu", "cpu.gelu", inputs, 1, NULL, 0, NULL, &out, 1));
  xrt_tensor_release(out);
  out = NULL;
  CHECK_ERROR(xrt_op_run_impl("gelu", "cuda.gelu", inputs, 1, NULL, 0, NULL, &out, 1),
              XRT_ERROR_NOT_FOUND, "no kernel 'cuda.gelu' for cpu with dtype float32 "
              "(registered for cpu: cpu.gelu");
  CHECK(out == NULL);
  xrt_tensor_release(f32);
  xrt_tensor_release(f64);
  xrt_tensor_release(i32);
}

static void test_empty(void) {
  const int64_t s[2] = {0, 8}, w[1] = {8};
  xrt_tensor_t *x = NULL, *weight = NULL, *out = NULL;
  CHECK_OK(xrt_tensor_create(cpu, XRT_FLOAT32, 2, s, &x));
  CHECK_OK(xrt_tensor_zeros(cpu, XRT_FLOAT32, 1, w, &weight));
  CHECK_OK(xrt_gelu(x, NULL, &out));
  xrt_tensor_release(out);
  CHECK_OK(xrt_layer_norm(x, weight, NULL, 1e-5, NULL, &out));
  xrt_tensor_release(out);
  CHECK_OK(xrt_softmax(x, 1, NULL, &out));
  xrt_tensor_release(out);
  xrt_tensor_release(x);
  xrt_tensor_release(weight);
}

int main(void) {
  CHECK_OK(xrt_device_by_name("cpu", &cpu));
  const xrt_dtype_t dtypes[2] = {XRT_FLOAT32, XRT_FLOAT64};
  for (int i = 0; i < 2; ++i) {
    test_matmul(dtypes[i]);
    test_add_and_gelu(dtypes[i]);
    test_softmax(dtypes[i]);
    test_norms(dtypes[i]);
    test_norm_backward(dtypes[i]);
    test_attention(dtypes[i]);
  }
  test_dispatch_errors();
  test_empty();
  /* Everything above was released: nothing may still be allocated. */
  xrt_memory_stats_t stats = {sizeof stats};
  CHECK_OK(xrt_memory_stats(cpu, &stats));
  CHECK(stats.allocated_bytes == 0);
  return check_report("ops");
}

// Standalone device check of the Hopper (sm_90a) attention forward
// (lib/backends/cuda/attention/hopper_forward.cu) beside the sm_80 kernel
// (flash_forward.cu). Built and run by tools/hopper-attention-check.
//
//  1. small shapes (lengths 1, 17, 127, 128, 1000, lq != lk too; causal and
//     not; d 64 and 128; f16 and bf16) against a float64 CPU reference:
//     max |out - ref| <= 1e-2 * max |ref|, LSE within 1e-2; every row below
//     lq written, nothing past it (guard elements stay poisoned);
//  2. large shapes against the old kernel (same tolerance);
//  3. timings (CUDA events, median after warm-up) in TFLOP/s,
//     4·B·H·N²·D, halved when causal.
// Inputs are fresh random values each case; outputs are poisoned with NaN
// before every launch. Both schedules of the new kernel are checked
// (0: sequential, 1: overlapped, the default).
//
// Usage: hopper-attention-check [--quick] [--no-time] [--seed N]
//   --quick: one small shape per dtype only (for compute-sanitizer).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "attention/attention.h"

namespace {

using xrt::cuda::attn::ForwardArgs;

#define CK(call)                                                                         \
  do {                                                                                   \
    cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                             \
      std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, \
                   __LINE__, cudaGetErrorString(e_));                                    \
      std::exit(2);                                                                      \
    }                                                                                    \
  } while (0)

constexpr int kGuard = 4096;  // poisoned elements after out and lse

__device__ __host__ inline uint32_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return static_cast<uint32_t>(x);
}

// Uniform in [-amp, amp), rounded to T.
template <class T>
__global__ void fill_random(T* p, int64_t n, uint64_t seed, float amp) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const uint32_t r = mix(seed * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(i));
    const float u = (r >> 8) * (1.0f / 16777216.0f);
    p[i] = static_cast<T>((2.0f * u - 1.0f) * amp);
  }
}

double to_double(uint16_t bits, xrt_dtype_t dt) {
  if (dt == XRT_BFLOAT16) {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  __half_raw raw;
  raw.x = bits;
  return static_cast<double>(__half2float(__half(raw)));
}

struct Buffers {
  void *q = nullptr, *k = nullptr, *v = nullptr, *out = nullptr, *out2 = nullptr;
  float *lse = nullptr, *lse2 = nullptr;
  size_t cap_q = 0, cap_kv = 0;
};

struct Case {
  int64_t bh, lq, lk;
  int d;
  bool causal;
  xrt_dtype_t dt;
};

const char* dt_name(xrt_dtype_t dt) { return dt == XRT_BFLOAT16 ? "bf16" : "f16"; }

uint64_t g_seed = 0;
int g_failures = 0;

void alloc(Buffers& b, const Case& c) {
  const size_t nq = size_t(c.bh) * c.lq * c.d, nkv = size_t(c.bh) * c.lk * c.d;
  if (nq > b.cap_q) {
    cudaFree(b.q);
    cudaFree(b.out);
    cudaFree(b.out2);
    cudaFree(b.lse);
    cudaFree(b.lse2);
    CK(cudaMalloc(&b.q, nq * 2));
    CK(cudaMalloc(&b.out, (nq + kGuard) * 2));
    CK(cudaMalloc(&b.out2, (nq + kGuard) * 2));
    CK(cudaMalloc(&b.lse, (size_t(c.bh) * c.lq + kGuard) * 4));
    CK(cudaMalloc(&b.lse2, (size_t(c.bh) * c.lq + kGuard) * 4));
    b.cap_q = nq;
  }
  if (nkv > b.cap_kv) {
    cudaFree(b.k);
    cudaFree(b.v);
    CK(cudaMalloc(&b.k, nkv * 2));
    CK(cudaMalloc(&b.v, nkv * 2));
    b.cap_kv = nkv;
  }
}

void fill(void* p, int64_t n, xrt_dtype_t dt, float amp) {
  ++g_seed;
  if (dt == XRT_BFLOAT16) {
    fill_random<<<1024, 256>>>(static_cast<__nv_bfloat16*>(p), n, g_seed, amp);
  } else {
    fill_random<<<1024, 256>>>(static_cast<__half*>(p), n, g_seed, amp);
  }
  CK(cudaGetLastError());
}

void fill_inputs(Buffers& b, const Case& c) {
  // Scores of standard deviation about 2 (scale 1/sqrt(d)), so the running
  // maximum moves between tiles.
  fill(b.q, c.bh * c.lq * c.d, c.dt, 3.0f);
  fill(b.k, c.bh * c.lk * c.d, c.dt, 2.0f);
  fill(b.v, c.bh * c.lk * c.d, c.dt, 1.0f);
}

ForwardArgs args_for(const Buffers& b, const Case& c, void* out, float* lse) {
  ForwardArgs a{};
  a.q = b.q;
  a.k = b.k;
  a.v = b.v;
  a.out = out;
  a.lse = lse;
  a.bh = c.bh;
  a.group = 1;
  a.lq = c.lq;
  a.lk = c.lk;
  a.d = c.d;
  a.scale = static_cast<float>(1.0 / std::sqrt(double(c.d)));
  a.causal = c.causal;
  a.dtype = c.dt;
  return a;
}

char g_error[1024];

xrt_kernel_context_t make_ctx() {
  xrt_kernel_context_t ctx;
  std::memset(&ctx, 0, sizeof ctx);
  ctx.struct_size = sizeof ctx;
  ctx.op = "attention";
  g_error[0] = 0;
  ctx.error = g_error;
  ctx.error_capacity = sizeof g_error;
  return ctx;
}

// which: -1 old kernel, 0/1 new kernel schedules.
void run(int which, const ForwardArgs& a) {
  xrt_kernel_context_t ctx = make_ctx();
  const xrt_status_t st = which < 0
                              ? xrt::cuda::attn::launch_forward(&ctx, a, nullptr)
                              : xrt::cuda::attn::launch_forward_sm90_schedule(&ctx, a, nullptr, which);
  if (st != XRT_OK) {
    std::fprintf(stderr, "launch (%d) failed: status %d: %s\n", which, int(st), g_error);
    std::exit(3);
  }
}

void poison(void* out, float* lse, const Case& c) {
  CK(cudaMemset(out, 0xFF, (size_t(c.bh) * c.lq * c.d + kGuard) * 2));
  CK(cudaMemset(lse, 0xFF, (size_t(c.bh) * c.lq + kGuard) * 4));
}

struct Host {
  std::vector<uint16_t> out;
  std::vector<float> lse;
};

Host fetch(const void* out, const float* lse, const Case& c) {
  Host h;
  h.out.resize(size_t(c.bh) * c.lq * c.d + kGuard);
  h.lse.resize(size_t(c.bh) * c.lq + kGuard);
  CK(cudaMemcpy(h.out.data(), out, h.out.size() * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(h.lse.data(), lse, h.lse.size() * 4, cudaMemcpyDeviceToHost));
  return h;
}

struct Err {
  double out_rel = 0, lse_abs = 0;
  int64_t bad = 0;  // non-finite in range, or guard overwritten
};

// Compares h against a reference (ref_out, ref_lse in double).
Err compare(const Host& h, const std::vector<double>& ref_out, const std::vector<double>& ref_lse,
            const Case& c) {
  Err e;
  const size_t n = size_t(c.bh) * c.lq * c.d, nl = size_t(c.bh) * c.lq;
  double ref_max = 0, diff_max = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = to_double(h.out[i], c.dt);
    if (!std::isfinite(x)) {
      ++e.bad;
      continue;
    }
    ref_max = std::max(ref_max, std::fabs(ref_out[i]));
    diff_max = std::max(diff_max, std::fabs(x - ref_out[i]));
  }
  for (size_t i = n; i < n + kGuard; ++i) e.bad += h.out[i] != 0xFFFF;
  e.out_rel = diff_max / std::max(ref_max, 1e-30);
  for (size_t i = 0; i < nl; ++i) {
    if (!std::isfinite(h.lse[i])) {
      ++e.bad;
      continue;
    }
    e.lse_abs = std::max(e.lse_abs, std::fabs(double(h.lse[i]) - ref_lse[i]));
  }
  uint32_t guard_bits;
  for (size_t i = nl; i < nl + kGuard; ++i) {
    std::memcpy(&guard_bits, &h.lse[i], 4);
    e.bad += guard_bits != 0xFFFFFFFFu;
  }
  return e;
}

void cpu_reference(const Buffers& b, const Case& c, std::vector<double>& out,
                   std::vector<double>& lse) {
  const size_t nq = size_t(c.bh) * c.lq * c.d, nkv = size_t(c.bh) * c.lk * c.d;
  std::vector<uint16_t> hq(nq), hk(nkv), hv(nkv);
  CK(cudaMemcpy(hq.data(), b.q, nq * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hk.data(), b.k, nkv * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hv.data(), b.v, nkv * 2, cudaMemcpyDeviceToHost));
  std::vector<double> q(nq), k(nkv), v(nkv);
  for (size_t i = 0; i < nq; ++i) q[i] = to_double(hq[i], c.dt);
  for (size_t i = 0; i < nkv; ++i) k[i] = to_double(hk[i], c.dt);
  for (size_t i = 0; i < nkv; ++i) v[i] = to_double(hv[i], c.dt);
  out.assign(nq, 0.0);
  lse.assign(size_t(c.bh) * c.lq, 0.0);
  const double scale = 1.0 / std::sqrt(double(c.d));
  const int64_t rows = c.bh * c.lq;
  std::atomic<int64_t> next{0};
  auto worker = [&]() {
  for (int64_t r; (r = next.fetch_add(1)) < rows;) {
    const int64_t h = r / c.lq, i = r % c.lq;
    const int64_t end = c.causal ? std::min<int64_t>(c.lk, i + 1) : c.lk;
    std::vector<double> s(end);
    const double* qi = &q[size_t(r) * c.d];
    double mx = -INFINITY;
    for (int64_t j = 0; j < end; ++j) {
      const double* kj = &k[(size_t(h) * c.lk + j) * c.d];
      double acc = 0;
      for (int x = 0; x < c.d; ++x) acc += qi[x] * kj[x];
      s[j] = acc * scale;
      mx = std::max(mx, s[j]);
    }
    double sum = 0;
    for (int64_t j = 0; j < end; ++j) {
      s[j] = std::exp(s[j] - mx);
      sum += s[j];
    }
    double* o = &out[size_t(r) * c.d];
    for (int64_t j = 0; j < end; ++j) {
      const double* vj = &v[(size_t(h) * c.lk + j) * c.d];
      const double p = s[j] / sum;
      for (int x = 0; x < c.d; ++x) o[x] += p * vj[x];
    }
    lse[r] = mx + std::log(sum);
  }
  };
  const unsigned n_threads = std::max(1u, std::min(32u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < n_threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& th : pool) th.join();
}

bool check_err(const char* who, const Err& e, double tol_out = 1e-2, double tol_lse = 1e-2) {
  const bool ok = e.bad == 0 && e.out_rel <= tol_out && e.lse_abs <= tol_lse;
  std::printf("    %-10s out rel %.2e  lse abs %.2e  bad %lld  %s\n", who, e.out_rel, e.lse_abs,
              static_cast<long long>(e.bad), ok ? "ok" : "FAIL");
  if (!ok) ++g_failures;
  return ok;
}

void small_case(Buffers& b, const Case& c) {
  alloc(b, c);
  fill_inputs(b, c);
  std::vector<double> ref_out, ref_lse;
  cpu_reference(b, c, ref_out, ref_lse);
  std::printf("  bh %lld lq %lld lk %lld d %d %s %s\n", (long long)c.bh, (long long)c.lq,
              (long long)c.lk, c.d, c.causal ? "causal" : "full", dt_name(c.dt));
  for (int which = -1; which <= 1; ++which) {
    poison(b.out, b.lse, c);
    run(which, args_for(b, c, b.out, b.lse));
    CK(cudaDeviceSynchronize());
    const Host h = fetch(b.out, b.lse, c);
    check_err(which < 0 ? "old" : which == 0 ? "new/seq" : "new/ovl",
              compare(h, ref_out, ref_lse, c));
  }
  // Without LSE output too (the new kernel's default schedule).
  poison(b.out, b.lse, c);
  run(1, args_for(b, c, b.out, nullptr));
  CK(cudaDeviceSynchronize());
  Host h = fetch(b.out, b.lse, c);
  Err e = compare(h, ref_out, ref_lse, c);
  // The LSE must stay untouched: count it as bad unless all poisoned.
  int64_t touched = 0;
  for (size_t i = 0; i < h.lse.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &h.lse[i], 4);
    touched += bits != 0xFFFFFFFFu;
  }
  e.bad = touched;
  // (bad counts non-finite LSE otherwise; recount the output alone)
  {
    const size_t n = size_t(c.bh) * c.lq * c.d;
    for (size_t i = 0; i < n; ++i) e.bad += !std::isfinite(to_double(h.out[i], c.dt));
    for (size_t i = n; i < n + kGuard; ++i) e.bad += h.out[i] != 0xFFFF;
  }
  e.lse_abs = 0;
  check_err("new/nolse", e);
}

// Large shapes: new (both schedules) against the old kernel.
void large_compare(Buffers& b, const Case& c) {
  alloc(b, c);
  fill_inputs(b, c);
  poison(b.out, b.lse, c);
  run(-1, args_for(b, c, b.out, b.lse));
  CK(cudaDeviceSynchronize());
  const Host old = fetch(b.out, b.lse, c);
  const size_t n = size_t(c.bh) * c.lq * c.d, nl = size_t(c.bh) * c.lq;
  std::vector<double> ref_out(n), ref_lse(nl);
  for (size_t i = 0; i < n; ++i) ref_out[i] = to_double(old.out[i], c.dt);
  for (size_t i = 0; i < nl; ++i) ref_lse[i] = old.lse[i];
  std::printf("  bh %lld lq %lld lk %lld d %d %s %s (vs old kernel)\n", (long long)c.bh,
              (long long)c.lq, (long long)c.lk, c.d, c.causal ? "causal" : "full", dt_name(c.dt));
  for (int which = 0; which <= 1; ++which) {
    poison(b.out2, b.lse2, c);
    run(which, args_for(b, c, b.out2, b.lse2));
    CK(cudaDeviceSynchronize());
    const Host h = fetch(b.out2, b.lse2, c);
    check_err(which == 0 ? "new/seq" : "new/ovl", compare(h, ref_out, ref_lse, c));
  }
}

double median_ms(int which, const ForwardArgs& a, int warm, int reps) {
  for (int i = 0; i < warm; ++i) run(which, a);
  std::vector<float> t(reps);
  cudaEvent_t e0, e1;
  CK(cudaEventCreate(&e0));
  CK(cudaEventCreate(&e1));
  for (int i = 0; i < reps; ++i) {
    CK(cudaEventRecord(e0));
    run(which, a);
    CK(cudaEventRecord(e1));
    CK(cudaEventSynchronize(e1));
    CK(cudaEventElapsedTime(&t[i], e0, e1));
  }
  CK(cudaEventDestroy(e0));
  CK(cudaEventDestroy(e1));
  std::sort(t.begin(), t.end());
  return t[reps / 2];
}

struct Timed {
  const char* name;
  Case c;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, timing = true;
  g_seed = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--no-time")) timing = false;
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) g_seed = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--no-time] [--seed N]\n", argv[0]);
      return 2;
    }
  }
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s (cc %d.%d, %d SMs), seed %llu\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, static_cast<unsigned long long>(g_seed));
  Buffers b;

  if (quick) {
    std::printf("== quick check against float64\n");
    small_case(b, {2, 300, 257, 128, true, XRT_BFLOAT16});
    small_case(b, {1, 130, 1000, 64, false, XRT_FLOAT16});
    std::printf("== %s (%d failures)\n", g_failures ? "FAILED" : "passed", g_failures);
    return g_failures ? 1 : 0;
  }

  std::printf("== small shapes against float64 (rel err of out to max|ref|, tol 1e-2)\n");
  const int64_t pairs[][2] = {{1, 1},      {17, 17},   {127, 127},  {128, 128},
                              {1000, 1000}, {1, 1000},  {1000, 1},   {17, 1000},
                              {1000, 17},  {127, 128}, {128, 127},  {1000, 127}};
  for (xrt_dtype_t dt : {XRT_BFLOAT16, XRT_FLOAT16}) {
    for (int d : {64, 128}) {
      for (bool causal : {false, true}) {
        for (const auto& p : pairs) small_case(b, {2, p[0], p[1], d, causal, dt});
      }
    }
  }
  const int small_failures = g_failures;
  std::printf("== small shapes: %d failures\n", small_failures);

  std::printf("== large shapes against the old kernel\n");
  large_compare(b, {64, 4096, 4096, 128, false, XRT_BFLOAT16});
  large_compare(b, {64, 4096, 4096, 128, true, XRT_BFLOAT16});
  large_compare(b, {8, 3001, 4999, 128, true, XRT_FLOAT16});
  large_compare(b, {8, 4999, 3001, 64, true, XRT_BFLOAT16});
  large_compare(b, {128, 2048, 2048, 64, false, XRT_BFLOAT16});
  large_compare(b, {32, 16384, 16384, 128, false, XRT_BFLOAT16});
  std::printf("== correctness: %s (%d failures)\n", g_failures ? "FAILED" : "passed", g_failures);

  if (timing) {
    const Timed shapes[] = {
        {"B4 H16 N4096 D128", {64, 4096, 4096, 128, false, XRT_BFLOAT16}},
        {"B4 H16 N4096 D128 causal", {64, 4096, 4096, 128, true, XRT_BFLOAT16}},
        {"B2 H16 N16384 D128", {32, 16384, 16384, 128, false, XRT_BFLOAT16}},
        {"B8 H16 N2048 D64", {128, 2048, 2048, 64, false, XRT_BFLOAT16}},
        {"B4 H16 N4096 D128 f16", {64, 4096, 4096, 128, false, XRT_FLOAT16}},
    };
    std::printf("== timings (bf16 unless named; median of 20 after 5 warm-up; TFLOP/s)\n");
    std::printf("%-28s %10s %10s %10s %8s\n", "shape", "old", "new/seq", "new/ovl", "ovl/old");
    for (const Timed& s : shapes) {
      const Case& c = s.c;
      alloc(b, c);
      fill_inputs(b, c);
      const ForwardArgs a = args_for(b, c, b.out, b.lse);
      const double flop = 4.0 * c.bh * double(c.lq) * c.lk * c.d * (c.causal ? 0.5 : 1.0);
      double tf[3];
      for (int which = -1; which <= 1; ++which) {
        const double ms = median_ms(which, a, 5, 20);
        tf[which + 1] = flop / (ms * 1e-3) / 1e12;
      }
      std::printf("%-28s %10.1f %10.1f %10.1f %8.2f\n", s.name, tf[0], tf[1], tf[2], tf[2] / tf[0]);
    }
  }
  std::printf("== %s (%d failures)\n", g_failures ? "FAILED" : "all checks passed", g_failures);
  return g_failures ? 1 : 0;
}

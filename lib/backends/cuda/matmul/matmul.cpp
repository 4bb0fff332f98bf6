// Row-major C = A·B is issued as the column-major product C^T = B^T·A^T:
// the same memory read the other way round, so no operand is transposed.
// Handles and per-shape plans (descriptors plus the algorithm
// cuBLASLt's heuristic chose) are made once and kept for the process, so a
// repeated shape costs two map look-ups before the cublasLtMatmul call.
#include "matmul.h"

#include <algorithm>
#include <array>
#include <cinttypes>
#include <climits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include <cuda_runtime_api.h>

#include "../kernels/kernel_util.h"
#include "backends/cuda/scratch.h"
#include "cublaslt_library.h"

namespace xrt::cuda {
namespace {

// Scratch lets the heuristic pick split-K and stream-K kernels, which large
// products need to match cuBLAS's own speed.
constexpr size_t kWorkspaceBytes = size_t{32} << 20;
// A layout's batch count is an int32_t.
constexpr int64_t kMaxBatch = INT32_MAX;

bool data_type(xrt_dtype_t dtype, cudaDataType* type, size_t* size) {
  switch (dtype) {
    case XRT_FLOAT32: *type = CUDA_R_32F; *size = 4; return true;
    case XRT_FLOAT16: *type = CUDA_R_16F; *size = 2; return true;
    case XRT_BFLOAT16: *type = CUDA_R_16BF; *size = 2; return true;
    default: return false;
  }
}

// The largest power of two dividing the address, capped at 256 (what
// cuBLASLt assumes unless told less); offsets into a tensor can be less
// aligned, and an algorithm chosen for 256 would then be refused.
uint32_t alignment(const void* p) {
  const uintptr_t address = reinterpret_cast<uintptr_t>(p);
  const uintptr_t lowest = address & (~address + 1);
  return lowest == 0 || lowest > 256 ? 256u : static_cast<uint32_t>(lowest);
}

// Pointer alignments of a, b and c; the best algorithm depends on them.
using Alignments = std::array<uint32_t, 3>;

// ---- Handle per device, workspace per call -------------------------------

struct Engine {
  lt::Handle handle;
  void* workspace;  // from the stream-ordered pool, so streams never share one
};

// One handle per device, shared by threads (cuBLASLt allows it).
xrt_status_t device_handle(const CublasLt& f, const xrt_kernel_context_t* ctx, int device,
                           lt::Handle* out) {
  static std::shared_mutex mutex;
  static std::map<int, lt::Handle> handles;
  {
    std::shared_lock lock(mutex);
    if (auto it = handles.find(device); it != handles.end()) {
      *out = it->second;
      return XRT_OK;
    }
  }
  std::unique_lock lock(mutex);
  auto handle = handles.find(device);
  if (handle == handles.end()) {
    lt::Handle created = nullptr;
    if (const lt::Status status = f.create(&created); status != lt::kSuccess) {
      return fail(ctx, XRT_ERROR_BACKEND,
                  "matmul: cublasLtCreate failed with status %d (%s) on device %d", status,
                  f.status_name(status), device);
    }
    handle = handles.emplace(device, created).first;
  }
  *out = handle->second;
  return XRT_OK;
}

// The workspace of one matmul call, handed back in stream order when the
// call's products are queued.
class Workspace {
 public:
  explicit Workspace(cudaStream_t stream)
      : stream_(stream), ptr_(scratch_alloc(kWorkspaceBytes, stream)) {}
  ~Workspace() { scratch_free(ptr_, stream_); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  void* get() const { return ptr_; }

 private:
  cudaStream_t stream_;
  void* ptr_;
};

// ---- Plans ---------------------------------------------------------------

// One cublasLtMatmul call in row-major terms: batch products (m,k)·(k,n);
// between products a and b advance stride_a and stride_b elements (0: the
// operand is shared), c advances m·n.
struct Problem {
  int64_t m, n, k, batch, stride_a, stride_b;
};

// What every product of one kernel call shares.
struct Setup {
  const CublasLt* f;
  Engine engine;
  int device;
  xrt_dtype_t dtype;
  cudaDataType type;
  size_t elem_size;
  lt::ComputeType compute;
  cudaStream_t stream;
};

// Layouts are named after the row-major operands: a's layout fills
// cuBLASLt's B slot and b's its A slot. c's serves as both C and D.
struct Plan {
  lt::MatmulDesc desc = nullptr;
  lt::MatrixLayout a = nullptr, b = nullptr, c = nullptr;
  lt::Algo algo{};
};

// The first cuBLASLt call that failed; a success status with a call named
// means the heuristic returned no algorithm.
struct Calls {
  const char* failed = nullptr;
  lt::Status status = lt::kSuccess;

  bool ok(lt::Status result, const char* call) {
    if (result != lt::kSuccess) {
      failed = call;
      status = result;
    }
    return result == lt::kSuccess;
  }
};

// A contiguous column-major matrix (ld = rows), strided over the batch.
bool make_layout(const CublasLt& f, cudaDataType type, int64_t rows, int64_t cols, int64_t batch,
                 int64_t stride, lt::MatrixLayout* out, Calls& calls) {
  if (!calls.ok(f.layout_create(out, type, static_cast<uint64_t>(rows),
                                static_cast<uint64_t>(cols), rows),
                "cublasLtMatrixLayoutCreate"))
    return false;
  if (batch == 1) return true;
  const int32_t count = static_cast<int32_t>(batch);
  return calls.ok(f.layout_set(*out, lt::kLayoutBatchCount, &count, sizeof count),
                  "cublasLtMatrixLayoutSetAttribute") &&
         calls.ok(f.layout_set(*out, lt::kLayoutStridedBatchOffset, &stride, sizeof stride),
                  "cublasLtMatrixLayoutSetAttribute");
}

bool choose_algo(const Setup& s, const Alignments& align, Plan& plan, Calls& calls) {
  const CublasLt& f = *s.f;
  lt::Preference pref = nullptr;
  if (!calls.ok(f.pref_create(&pref), "cublasLtMatmulPreferenceCreate")) return false;
  const uint64_t max_workspace = kWorkspaceBytes;
  // Split-K sums stay in float32: summing partial products in a 16-bit
  // output type would lose digits the contract promises to keep.
  const uint32_t reductions = lt::kReduceComputeType;
  auto set = [&](lt::PreferenceAttribute attr, const void* value, size_t size) {
    return calls.ok(f.pref_set(pref, attr, value, size), "cublasLtMatmulPreferenceSetAttribute");
  };
  lt::HeuristicResult result{};
  int found = 0;
  const bool ok =
      set(lt::kPrefMaxWorkspaceBytes, &max_workspace, sizeof max_workspace) &&
      set(lt::kPrefReductionSchemeMask, &reductions, sizeof reductions) &&
      set(lt::kPrefMinAlignmentABytes, &align[1], sizeof align[1]) &&
      set(lt::kPrefMinAlignmentBBytes, &align[0], sizeof align[0]) &&
      set(lt::kPrefMinAlignmentCBytes, &align[2], sizeof align[2]) &&
      set(lt::kPrefMinAlignmentDBytes, &align[2], sizeof align[2]) &&
      calls.ok(f.heuristic(s.engine.handle, plan.desc, plan.b, plan.a, plan.c, plan.c, pref, 1,
                           &result, &found),
               "cublasLtMatmulAlgoGetHeuristic");
  f.pref_destroy(pref);
  if (!ok) return false;
  if (found == 0) {
    calls.failed = "cublasLtMatmulAlgoGetHeuristic";
    return false;
  }
  plan.algo = result.algo;
  return true;
}

bool build(const Setup& s, const Problem& p, const Alignments& align, Plan& plan,
           Calls& calls) {
  const CublasLt& f = *s.f;
  const int32_t no_transpose = lt::kOpN;
  return calls.ok(f.desc_create(&plan.desc, s.compute, CUDA_R_32F), "cublasLtMatmulDescCreate") &&
         calls.ok(f.desc_set(plan.desc, lt::kDescTransA, &no_transpose, sizeof no_transpose),
                  "cublasLtMatmulDescSetAttribute") &&
         calls.ok(f.desc_set(plan.desc, lt::kDescTransB, &no_transpose, sizeof no_transpose),
                  "cublasLtMatmulDescSetAttribute") &&
         make_layout(f, s.type, p.k, p.m, p.batch, p.stride_a, &plan.a, calls) &&
         make_layout(f, s.type, p.n, p.k, p.batch, p.stride_b, &plan.b, calls) &&
         make_layout(f, s.type, p.n, p.m, p.batch, p.m * p.n, &plan.c, calls) &&
         choose_algo(s, align, plan, calls);
}

void release(const CublasLt& f, const Plan& plan) {
  if (plan.desc) f.desc_destroy(plan.desc);
  for (lt::MatrixLayout layout : {plan.a, plan.b, plan.c})
    if (layout) f.layout_destroy(layout);
}

xrt_status_t lt_failure(const xrt_kernel_context_t* ctx, const Setup& s, const Problem& p,
                        const char* call, lt::Status status) {
  if (status == lt::kSuccess) {
    return fail(ctx, XRT_ERROR_BACKEND,
                "matmul: cuBLASLt has no algorithm for %s (m,n,k)=(%" PRId64 ",%" PRId64
                ",%" PRId64 "), batch %" PRId64,
                dtype_name(s.dtype), p.m, p.n, p.k, p.batch);
  }
  const char* name = s.f->status_name(status);
  return fail(ctx, XRT_ERROR_BACKEND,
              "matmul: %s failed with status %d (%s) for %s (m,n,k)=(%" PRId64 ",%" PRId64
              ",%" PRId64 "), batch %" PRId64,
              call, status, name ? name : "?", dtype_name(s.dtype), p.m, p.n, p.k, p.batch);
}

using PlanKey = std::array<int64_t, 12>;

// Built outside the lock (the heuristic is slow); a thread that loses the
// race to insert the same key frees its copy.
xrt_status_t find_plan(const xrt_kernel_context_t* ctx, const Setup& s, const Problem& p,
                       const Alignments& align, const Plan** out) {
  static std::shared_mutex mutex;
  static std::map<PlanKey, Plan> plans;
  const PlanKey key{s.device,  s.dtype,   s.compute,  p.m,      p.n,      p.k,
                    p.batch,   p.stride_a, p.stride_b, align[0], align[1], align[2]};
  {
    std::shared_lock lock(mutex);
    if (auto it = plans.find(key); it != plans.end()) {
      *out = &it->second;
      return XRT_OK;
    }
  }
  Plan plan;
  Calls calls;
  if (!build(s, p, align, plan, calls)) {
    release(*s.f, plan);
    return lt_failure(ctx, s, p, calls.failed, calls.status);
  }
  std::unique_lock lock(mutex);
  const auto [it, inserted] = plans.try_emplace(key, plan);
  if (!inserted) release(*s.f, plan);
  *out = &it->second;
  return XRT_OK;
}

// ---- Issuing products ------------------------------------------------------

xrt_status_t run(const xrt_kernel_context_t* ctx, const Setup& s, const Problem& p,
                 const void* a, const void* b, void* c) {
  const Alignments align{alignment(a), alignment(b), alignment(c)};
  const Plan* plan = nullptr;
  if (const xrt_status_t status = find_plan(ctx, s, p, align, &plan); status != XRT_OK)
    return status;
  static const float one = 1.0f, zero = 0.0f;
  const lt::Status status =
      s.f->matmul(s.engine.handle, plan->desc, &one, b, plan->b, a, plan->a, &zero, c, plan->c,
                  c, plan->c, &plan->algo, s.engine.workspace, kWorkspaceBytes, s.stream);
  return status == lt::kSuccess ? XRT_OK : lt_failure(ctx, s, p, "cublasLtMatmul", status);
}

// batch products from a, b, c (matrix offsets ia, ib, ic), a and b
// advancing step_a, step_b matrices per product (0 or 1).
xrt_status_t run_group(const xrt_kernel_context_t* ctx, const Setup& s, int64_t m, int64_t n,
                       int64_t k, int64_t ia, int64_t ib, int64_t ic, int64_t batch,
                       int64_t step_a, int64_t step_b) {
  const char* a = static_cast<const char*>(ctx->inputs[0].data);
  const char* b = static_cast<const char*>(ctx->inputs[1].data);
  char* c = static_cast<char*>(ctx->outputs[0].data);
  const int64_t ea = m * k * static_cast<int64_t>(s.elem_size);
  const int64_t eb = k * n * static_cast<int64_t>(s.elem_size);
  const int64_t ec = m * n * static_cast<int64_t>(s.elem_size);
  // b shared by consecutive a matrices: one tall product (batch·m, k)·(k, n).
  if (batch == 1 || (step_a == 1 && step_b == 0))
    return run(ctx, s, Problem{batch * m, n, k, 1, 0, 0}, a + ia * ea, b + ib * eb, c + ic * ec);
  for (int64_t done = 0; done < batch; done += kMaxBatch) {
    const Problem p{m, n, k, std::min(kMaxBatch, batch - done), step_a * m * k, step_b * k * n};
    const xrt_status_t status = run(ctx, s, p, a + (ia + done * step_a) * ea,
                                    b + (ib + done * step_b) * eb, c + (ic + done) * ec);
    if (status != XRT_OK) return status;
  }
  return XRT_OK;
}

// Per output batch dim, how many matrices an operand advances (0 where it
// is broadcast along that dim).
std::array<int64_t, XRT_MAX_DIMS> batch_steps(const xrt_kernel_tensor_t& t, int32_t out_dims) {
  std::array<int64_t, XRT_MAX_DIMS> steps{};
  int64_t step = 1;
  for (int32_t d = t.ndim - 3; d >= 0; --d) {
    if (t.shape[d] != 1) steps[d + out_dims - (t.ndim - 2)] = step;
    step *= t.shape[d];
  }
  return steps;
}

// Whether, over output batch dims [first, out_dims), the operand's matrix
// index is step × the flat index there, with step 1 (it walks its own
// matrices) or 0 (it is broadcast); size-1 dims do not matter.
bool linear_over(const std::array<int64_t, XRT_MAX_DIMS>& steps, const int64_t* out_shape,
                 int32_t first, int32_t out_dims, int64_t* step) {
  int64_t s = -1, inner = 1;
  for (int32_t d = out_dims - 1; d >= first; --d) {
    if (out_shape[d] != 1) {
      if (s < 0) s = steps[d] != 0;
      if (steps[d] != s * inner) return false;
    }
    inner *= out_shape[d];
  }
  *step = s < 0 ? 0 : s;
  return true;
}

// Fills what matmul() has not: the library, device, stream and handle.
xrt_status_t setup(const xrt_kernel_context_t* ctx, const CublasLt& f, Setup* s) {
  s->f = &f;
  const bool tf32 = s->dtype == XRT_FLOAT32 && attr_int(ctx, "allow_tf32", 0) != 0;
  s->compute = tf32 ? lt::kCompute32FFastTF32 : lt::kCompute32F;
  s->stream = stream_of(ctx);
  if (const cudaError_t error = cudaGetDevice(&s->device); error != cudaSuccess) {
    return fail(ctx, XRT_ERROR_BACKEND, "matmul: cudaGetDevice failed: %s",
                cudaGetErrorString(error));
  }
  return device_handle(f, ctx, s->device, &s->engine.handle);
}

}  // namespace

xrt_status_t matmul(const xrt_kernel_context_t* ctx) {
  const xrt_kernel_tensor_t& ta = ctx->inputs[0];
  const xrt_kernel_tensor_t& tb = ctx->inputs[1];
  const xrt_kernel_tensor_t& tc = ctx->outputs[0];
  Setup s{};
  s.dtype = ta.dtype;
  if (!data_type(s.dtype, &s.type, &s.elem_size)) {
    return fail(ctx, XRT_ERROR_UNSUPPORTED,
                "matmul: dtype %s is not supported on CUDA (float32, float16 and bfloat16 are)",
                dtype_name(ta.dtype));
  }
  const int64_t m = ta.shape[ta.ndim - 2], k = ta.shape[ta.ndim - 1], n = tb.shape[tb.ndim - 1];
  const int32_t out_dims = tc.ndim - 2;
  int64_t batches = 1;
  for (int32_t d = 0; d < out_dims; ++d) batches *= tc.shape[d];
  if (batches == 0 || m == 0 || n == 0) return XRT_OK;
  if (k == 0) {
    const size_t bytes = static_cast<size_t>(batches * m * n) * s.elem_size;
    const cudaError_t error =
        cudaMemsetAsync(tc.data, 0, bytes, stream_of(ctx));
    if (error == cudaSuccess) return XRT_OK;
    return fail(ctx, XRT_ERROR_BACKEND, "matmul: cudaMemsetAsync failed: %s",
                cudaGetErrorString(error));
  }

  std::string why;
  const CublasLt* f = cublaslt(&why);
  if (!f) return fail(ctx, XRT_ERROR_BACKEND, "matmul: %s", why.c_str());
  if (const xrt_status_t status = setup(ctx, *f, &s); status != XRT_OK) return status;
  Workspace workspace(s.stream);
  if (!workspace.get())
    return fail(ctx, XRT_ERROR_OUT_OF_MEMORY,
                "matmul: cannot allocate cuBLASLt's %zu MiB workspace on device %d",
                kWorkspaceBytes >> 20, s.device);
  s.engine.workspace = workspace.get();

  // The longest run of trailing batch dims over which both operands stride
  // evenly becomes one strided-batched call; the dims before it are looped.
  const std::array<int64_t, XRT_MAX_DIMS> sa = batch_steps(ta, out_dims);
  const std::array<int64_t, XRT_MAX_DIMS> sb = batch_steps(tb, out_dims);
  int32_t first = out_dims;
  int64_t step_a = 0, step_b = 0;
  while (first > 0) {
    int64_t xa = 0, xb = 0;
    if (!linear_over(sa, tc.shape, first - 1, out_dims, &xa) ||
        !linear_over(sb, tc.shape, first - 1, out_dims, &xb))
      break;
    --first;
    step_a = xa;
    step_b = xb;
  }
  int64_t group = 1;
  for (int32_t d = first; d < out_dims; ++d) group *= tc.shape[d];
  for (int64_t g = 0; g < batches / group; ++g) {
    int64_t ia = 0, ib = 0, rest = g;
    for (int32_t d = first - 1; d >= 0; --d) {
      const int64_t index = rest % tc.shape[d];
      rest /= tc.shape[d];
      ia += index * sa[d];
      ib += index * sb[d];
    }
    const xrt_status_t status =
        run_group(ctx, s, m, n, k, ia, ib, g * group, group, step_a, step_b);
    if (status != XRT_OK) return status;
  }
  return XRT_OK;
}

}  // namespace xrt::cuda

// The part of cuBLASLt's C ABI the matmul kernel calls. The library is
// opened with dlopen at run time, so the build needs no cuBLAS headers:
// every value and struct layout below matches cuBLASLt 13. Data types
// (CUDA_R_*) and streams come from the CUDA runtime's own headers.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>
#include <library_types.h>

namespace xrt::cuda::lt {

// Opaque objects; the library allocates them and hands out pointers.
struct Context;
struct MatmulDescData;
struct MatrixLayoutData;
struct PreferenceData;
using Handle = Context*;
using MatmulDesc = MatmulDescData*;
using MatrixLayout = MatrixLayoutData*;
using Preference = PreferenceData*;

// cuBLAS's C enums are int-sized; only the values used are named.
enum Status : int32_t { kSuccess = 0 };

enum Operation : int32_t { kOpN = 0 };

enum ComputeType : int32_t {
  kCompute32F = 68,
  kCompute32FFastTF32 = 77,
};

// Each attribute's value type is given after it.
enum MatmulDescAttribute : int32_t {
  kDescTransA = 3,  // int32_t (Operation)
  kDescTransB = 4,  // int32_t (Operation)
};

enum MatrixLayoutAttribute : int32_t {
  kLayoutBatchCount = 5,         // int32_t
  kLayoutStridedBatchOffset = 6, // int64_t, in elements
};

// How split-K partial products may be summed; bits of the preference mask
// (the others sum in the output's type).
enum ReductionScheme : uint32_t {
  kReduceComputeType = 2,  // in the workspace, in the compute type
};

enum PreferenceAttribute : int32_t {
  kPrefMaxWorkspaceBytes = 1,  // uint64_t
  kPrefReductionSchemeMask = 3,  // uint32_t, bits of ReductionScheme
  kPrefMinAlignmentABytes = 5, // uint32_t, each of these four
  kPrefMinAlignmentBBytes = 6,
  kPrefMinAlignmentCBytes = 7,
  kPrefMinAlignmentDBytes = 8,
};

// A chosen kernel configuration, copied by value.
struct Algo {
  uint64_t data[8];
};
static_assert(sizeof(Algo) == 64, "cuBLASLt's algo is 64 bytes");

struct HeuristicResult {
  Algo algo;
  size_t workspace_size;
  Status state;
  float waves_count;
  int32_t reserved[4];
};
static_assert(sizeof(HeuristicResult) == 96, "cuBLASLt's heuristic result is 96 bytes");
static_assert(offsetof(HeuristicResult, workspace_size) == 64);
static_assert(offsetof(HeuristicResult, state) == 72);
static_assert(offsetof(HeuristicResult, waves_count) == 76);

using CreateFn = Status (*)(Handle* handle);
using GetStatusNameFn = const char* (*)(Status status);
using MatmulDescCreateFn = Status (*)(MatmulDesc* desc, ComputeType compute, cudaDataType scale);
using MatmulDescDestroyFn = Status (*)(MatmulDesc desc);
using MatmulDescSetAttributeFn = Status (*)(MatmulDesc desc, MatmulDescAttribute attr,
                                            const void* value, size_t size);
using MatrixLayoutCreateFn = Status (*)(MatrixLayout* layout, cudaDataType type, uint64_t rows,
                                        uint64_t cols, int64_t ld);
using MatrixLayoutDestroyFn = Status (*)(MatrixLayout layout);
using MatrixLayoutSetAttributeFn = Status (*)(MatrixLayout layout, MatrixLayoutAttribute attr,
                                              const void* value, size_t size);
using PreferenceCreateFn = Status (*)(Preference* pref);
using PreferenceDestroyFn = Status (*)(Preference pref);
using PreferenceSetAttributeFn = Status (*)(Preference pref, PreferenceAttribute attr,
                                            const void* value, size_t size);
using AlgoGetHeuristicFn = Status (*)(Handle handle, MatmulDesc desc, MatrixLayout a,
                                      MatrixLayout b, MatrixLayout c, MatrixLayout d,
                                      Preference pref, int requested, HeuristicResult* results,
                                      int* returned);
// D = alpha * op(A) op(B) + beta * C; alpha and beta are host pointers here.
using MatmulFn = Status (*)(Handle handle, MatmulDesc desc, const void* alpha, const void* a,
                            MatrixLayout a_layout, const void* b, MatrixLayout b_layout,
                            const void* beta, const void* c, MatrixLayout c_layout, void* d,
                            MatrixLayout d_layout, const Algo* algo, void* workspace,
                            size_t workspace_size, cudaStream_t stream);

}  // namespace xrt::cuda::lt

// Cache-blocked GEMM: B is packed into kc x nc panels of NR-wide strips, A
// into mc x kc blocks of MR-tall strips, and a register-blocked MR x NR
// micro-kernel (plain loops the compiler vectorises) runs over the tiles. On
// x86-64 the micro-kernel is also compiled for AVX2 and AVX-512 and picked at
// run time, since the library itself targets the baseline ISA.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "cpu_isa.h"
#include "gemm.h"
#include "gemm_pack.h"
#include "thread_pool.h"

namespace xrt::cpu {
namespace {

template <class T>
struct Blocking;
template <>
struct Blocking<float> {
  static constexpr int64_t kc = 256, mc = 144, nc = 3072;
};
template <>
struct Blocking<double> {
  static constexpr int64_t kc = 256, mc = 96, nc = 1536;
};

// Where a micro-kernel reads its MR rows of A: a packed strip
// (gemm_pack.h), or MR row pointers for an A the caller did not pack.
template <class T, int MR>
struct PackedStrip {
  const T* ap;
  XRT_ALWAYS_INLINE T at(int i, int64_t p) const { return ap[p * MR + i]; }
};

template <class T, int MR>
struct RowStrip {
  const T* row[MR];
  XRT_ALWAYS_INLINE T at(int i, int64_t p) const { return row[i][p]; }
};

// Rows [i, i + MR) of A, of mc in all (kc per row).
template <class T, int MR>
XRT_ALWAYS_INLINE PackedStrip<T, MR> strip(const T* ap, int64_t i, int64_t kc, int64_t) {
  return {ap + i * kc};
}

// Rows past mc repeat row i: their results are never stored.
template <class T, int MR>
XRT_ALWAYS_INLINE RowStrip<T, MR> strip(const T* const* rows, int64_t i, int64_t, int64_t mc) {
  RowStrip<T, MR> s;
  for (int r = 0; r < MR; ++r) s.row[r] = rows[i + r < mc ? i + r : i];
  return s;
}

// C tile (rows x cols of an MR x NR tile) = / += A strip * packed B strip.
template <class T, int MR, int NR, bool FMA, class Strip>
XRT_ALWAYS_INLINE void micro_kernel(int64_t kc, const Strip& a, const T* __restrict bp,
                                    T* __restrict c, int64_t ldc, int64_t rows, int64_t cols,
                                    bool accumulate) {
  T acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    const T* b = bp + p * NR;
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const T ai = a.at(i, p);
#pragma GCC unroll 32
      for (int j = 0; j < NR; ++j) acc[i][j] = madd<FMA>(ai, b[j], acc[i][j]);
    }
  }
  for (int64_t i = 0; i < rows; ++i) {
    T* ci = c + i * ldc;
    if (accumulate) {
      for (int64_t j = 0; j < cols; ++j) ci[j] += acc[i][j];
    } else {
      for (int64_t j = 0; j < cols; ++j) ci[j] = acc[i][j];
    }
  }
}

// A is packed (const T*) or given as row pointers (const T* const*).
template <class T, int MR, int NR, bool FMA, class A>
XRT_ALWAYS_INLINE void macro_kernel(int64_t mc, int64_t nc, int64_t kc, A a, const T* bp, T* c,
                                    int64_t ldc, bool accumulate) {
  for (int64_t j = 0; j < nc; j += NR) {
    for (int64_t i = 0; i < mc; i += MR) {
      micro_kernel<T, MR, NR, FMA>(kc, strip<T, MR>(a, i, kc, mc), bp + j * kc,
                                   c + i * ldc + j, ldc, std::min<int64_t>(MR, mc - i),
                                   std::min<int64_t>(NR, nc - j), accumulate);
    }
  }
}

template <class T, class A>
using MacroFn = void (*)(int64_t mc, int64_t nc, int64_t kc, A a, const T* bp, T* c, int64_t ldc,
                         bool accumulate);

template <class T>
struct Arch {
  int64_t mr, nr;
  MacroFn<T, const T*> macro;
  MacroFn<T, const T* const*> rows;
};

template <class T, int MR, int NR, class A>
void macro_generic(int64_t mc, int64_t nc, int64_t kc, A a, const T* bp, T* c, int64_t ldc,
                   bool accumulate) {
  macro_kernel<T, MR, NR, kBaselineFma>(mc, nc, kc, a, bp, c, ldc, accumulate);
}

#if XRT_X86_DISPATCH
template <class T, int MR, int NR, class A>
__attribute__((target("avx2,fma"))) void macro_avx2(int64_t mc, int64_t nc, int64_t kc, A a,
                                                    const T* bp, T* c, int64_t ldc,
                                                    bool accumulate) {
  macro_kernel<T, MR, NR, true>(mc, nc, kc, a, bp, c, ldc, accumulate);
}

template <class T, int MR, int NR, class A>
__attribute__((target("avx512f,fma"))) void macro_avx512(int64_t mc, int64_t nc, int64_t kc, A a,
                                                         const T* bp, T* c, int64_t ldc,
                                                         bool accumulate) {
  macro_kernel<T, MR, NR, true>(mc, nc, kc, a, bp, c, ldc, accumulate);
}
#endif

// Tile shapes keep the MR x NR accumulators and a row of B in registers
// (the shapes were picked by measurement).
template <class T>
Arch<T> select_arch();

template <>
Arch<float> select_arch<float>() {
  switch (cpu_isa()) {
#if XRT_X86_DISPATCH
    case Isa::kAvx512:
      return {8, 32, macro_avx512<float, 8, 32, const float*>,
              macro_avx512<float, 8, 32, const float* const*>};
    case Isa::kAvx2:
      return {6, 16, macro_avx2<float, 6, 16, const float*>,
              macro_avx2<float, 6, 16, const float* const*>};
#endif
    default:
      return {4, 8, macro_generic<float, 4, 8, const float*>,
              macro_generic<float, 4, 8, const float* const*>};
  }
}

template <>
Arch<double> select_arch<double>() {
  switch (cpu_isa()) {
#if XRT_X86_DISPATCH
    case Isa::kAvx512:
      return {6, 32, macro_avx512<double, 6, 32, const double*>,
              macro_avx512<double, 6, 32, const double* const*>};
    case Isa::kAvx2:
      return {6, 8, macro_avx2<double, 6, 8, const double*>,
              macro_avx2<double, 6, 8, const double* const*>};
#endif
    default:
      return {4, 4, macro_generic<double, 4, 4, const double*>,
              macro_generic<double, 4, 4, const double* const*>};
  }
}

template <class T>
const Arch<T>& arch() {
  static const Arch<T> a = select_arch<T>();
  return a;
}

// Packs rows [0, mc) x cols [0, kc) of A.
template <class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t lda, int64_t mr, T* dst) {
  pack_a_strips(mc, kc, mr, dst, [&](int64_t i, int64_t p) { return a[i * lda + p]; });
}

// Packs NR-wide strips [s0, s1) of a kc x nc block of B.
template <class T>
void pack_b(int64_t s0, int64_t s1, int64_t nc, int64_t kc, const T* b, int64_t ldb, int64_t nr,
            T* dst) {
  pack_b_strips(s0, s1, kc, nc, nr, dst, [&](int64_t p, int64_t j) { return b[p * ldb + j]; });
}

template <class T>
T* scratch_a(size_t n) {
  thread_local std::vector<T> buf;
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

template <class T>
void blocked(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
             T* c, int64_t ldc, bool parallel) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    return;
  }
  const Arch<T>& ar = arch<T>();
  const int64_t mr = ar.mr, nr = ar.nr;
  // Below this much work, fan-out costs more than it saves.
  constexpr double kMinParallelFlops = 1 << 18;
  const int64_t threads =
      parallel && 2.0 * m * n * k >= kMinParallelFlops ? max_threads() : 1;

  // Row blocks of at most Blocking::mc rows, as many as a multiple of the
  // thread count and of even size so no thread is left with a sliver.
  const int64_t m_blocks_wanted = round_up(ceil_div(m, Blocking<T>::mc), threads);
  const int64_t mc = round_up(ceil_div(m, m_blocks_wanted), mr);
  const int64_t m_blocks = ceil_div(m, mc);
  const int64_t kc_max = std::min(Blocking<T>::kc, k);
  const int64_t nc_max = std::min(Blocking<T>::nc, round_up(n, nr));
  std::vector<T> bpack(static_cast<size_t>(round_up(nc_max, nr) * kc_max));

  for (int64_t jc = 0; jc < n; jc += nc_max) {
    const int64_t nc = std::min(nc_max, n - jc);
    const int64_t strips = ceil_div(nc, nr);
    // Split columns too when there are fewer row blocks than threads.
    const int64_t n_splits =
        m_blocks >= threads ? 1 : std::min(strips, ceil_div(threads, m_blocks));
    const int64_t split_strips = ceil_div(strips, n_splits);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, k - pc);
      const T* bblock = b + pc * ldb + jc;
      const bool accumulate = pc > 0;
      auto pack = [&](int64_t s0, int64_t s1) {
        pack_b(s0, s1, nc, kc, bblock, ldb, nr, bpack.data());
      };
      if (threads > 1) {
        parallel_for(0, strips, 8, pack);
      } else {
        pack(0, strips);
      }
      auto task = [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t i0 = (t / n_splits) * mc;
          const int64_t rows = std::min(mc, m - i0);
          const int64_t s0 = (t % n_splits) * split_strips;
          const int64_t s1 = std::min(strips, s0 + split_strips);
          if (s0 >= s1) continue;
          T* apack = scratch_a<T>(static_cast<size_t>(round_up(rows, mr) * kc));
          pack_a(rows, kc, a + i0 * lda + pc, lda, mr, apack);
          const int64_t j0 = s0 * nr;
          ar.macro(rows, std::min(nc, s1 * nr) - j0, kc, apack, bpack.data() + j0 * kc,
                   c + i0 * ldc + jc + j0, ldc, accumulate);
        }
      };
      const int64_t tasks = m_blocks * n_splits;
      if (threads > 1) {
        parallel_for(0, tasks, 1, task);
      } else {
        task(0, tasks);
      }
    }
  }
}

// A packed (const T*) or as row pointers (const T* const*).
template <class T, class A>
void packed(int64_t m, int64_t n, int64_t k, A a, const T* bp, T* c, int64_t ldc,
            bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, T(0));
    }
    return;
  }
  if constexpr (std::is_same_v<A, const T*>) {
    arch<T>().macro(m, n, k, a, bp, c, ldc, accumulate);
  } else {
    arch<T>().rows(m, n, k, a, bp, c, ldc, accumulate);
  }
}

}  // namespace

template <>
int64_t gemm_strip_rows<float>() { return arch<float>().mr; }
template <>
int64_t gemm_strip_rows<double>() { return arch<double>().mr; }
template <>
int64_t gemm_strip_cols<float>() { return arch<float>().nr; }
template <>
int64_t gemm_strip_cols<double>() { return arch<double>().nr; }

void gemm_packed(int64_t m, int64_t n, int64_t k, const float* packed_a, const float* packed_b,
                 float* c, int64_t ldc, bool accumulate) {
  packed(m, n, k, packed_a, packed_b, c, ldc, accumulate);
}

void gemm_packed(int64_t m, int64_t n, int64_t k, const double* packed_a,
                 const double* packed_b, double* c, int64_t ldc, bool accumulate) {
  packed(m, n, k, packed_a, packed_b, c, ldc, accumulate);
}

void gemm_rows(int64_t m, int64_t n, int64_t k, const float* const* a_rows,
               const float* packed_b, float* c, int64_t ldc, bool accumulate) {
  packed(m, n, k, a_rows, packed_b, c, ldc, accumulate);
}

void gemm_rows(int64_t m, int64_t n, int64_t k, const double* const* a_rows,
               const double* packed_b, double* c, int64_t ldc, bool accumulate) {
  packed(m, n, k, a_rows, packed_b, c, ldc, accumulate);
}

void gemm_blocked(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                  int64_t ldb, float* c, int64_t ldc, bool parallel) {
  blocked(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

void gemm_blocked(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double* c, int64_t ldc, bool parallel) {
  blocked(m, n, k, a, lda, b, ldb, c, ldc, parallel);
}

}  // namespace xrt::cpu

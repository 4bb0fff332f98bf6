// The packed operand layouts the GEMM micro-kernels read (gemm_blocked.cpp),
// in one place for the blocked GEMM and for kernels that pack their own
// operands once and reuse them (attention's query blocks and key tiles).
//   A (m x k): MR-tall strips; strip s holds rows [s*MR, s*MR + MR) as k
//     columns of MR values, zero past row m.
//   B (k x n): NR-wide strips; strip s holds columns [s*NR, s*NR + NR) as k
//     rows of NR values, zero past column n.
// `at(row, col)` reads one element of the unpacked operand, so callers pack
// from any layout or storage type.
#ifndef XRT_CPU_GEMM_PACK_H_
#define XRT_CPU_GEMM_PACK_H_

#include <algorithm>
#include <cstdint>

namespace xrt::cpu {

template <class T, class At>
void pack_a_strips(int64_t m, int64_t k, int64_t mr, T* dst, At&& at) {
  for (int64_t i0 = 0; i0 < m; i0 += mr) {
    const int64_t rows = std::min(mr, m - i0);
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t i = 0; i < rows; ++i) dst[p * mr + i] = at(i0 + i, p);
      for (int64_t i = rows; i < mr; ++i) dst[p * mr + i] = T(0);
    }
    dst += mr * k;
  }
}

// Strips [s0, s1) only; dst is the start of strip 0.
template <class T, class At>
void pack_b_strips(int64_t s0, int64_t s1, int64_t k, int64_t n, int64_t nr, T* dst, At&& at) {
  for (int64_t s = s0; s < s1; ++s) {
    const int64_t j0 = s * nr;
    const int64_t cols = std::min(nr, n - j0);
    T* d = dst + s * nr * k;
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t j = 0; j < cols; ++j) d[p * nr + j] = at(p, j0 + j);
      for (int64_t j = cols; j < nr; ++j) d[p * nr + j] = T(0);
    }
  }
}

// Sizes in whole strips: how many strips of `width` cover `extent`, and the
// extent they span.
inline int64_t ceil_div(int64_t extent, int64_t width) { return (extent + width - 1) / width; }
inline int64_t round_up(int64_t extent, int64_t width) { return ceil_div(extent, width) * width; }

}  // namespace xrt::cpu

#endif  // XRT_CPU_GEMM_PACK_H_

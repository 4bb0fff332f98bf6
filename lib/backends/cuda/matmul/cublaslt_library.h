// Finding and loading libcublasLt at run time, once per process.
#pragma once

#include <string>

#include "cublaslt_abi.h"

namespace xrt::cuda {

// The cuBLASLt entry points the matmul kernel calls.
struct CublasLt {
  lt::CreateFn create;
  lt::GetStatusNameFn status_name;
  lt::MatmulDescCreateFn desc_create;
  lt::MatmulDescDestroyFn desc_destroy;
  lt::MatmulDescSetAttributeFn desc_set;
  lt::MatrixLayoutCreateFn layout_create;
  lt::MatrixLayoutDestroyFn layout_destroy;
  lt::MatrixLayoutSetAttributeFn layout_set;
  lt::PreferenceCreateFn pref_create;
  lt::PreferenceDestroyFn pref_destroy;
  lt::PreferenceSetAttributeFn pref_set;
  lt::AlgoGetHeuristicFn heuristic;
  lt::MatmulFn matmul;
};

// Loads the library on first use (thread-safe) and keeps it for the life
// of the process. nullptr when none was usable; *why (when given) then says
// what was tried.
const CublasLt* cublaslt(std::string* why);

}  // namespace xrt::cuda

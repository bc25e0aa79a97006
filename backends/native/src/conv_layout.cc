// LayoutMap: where each element of tfjs' filter layout lands in a primitive's blocked one.

#include "conv_layout.h"

namespace einnet {

std::vector<int32_t> LayoutMap(const memory::desc& user, const memory::desc& wanted) {
  const dnnl_memory_desc_t& u = user.data;
  const dnnl_memory_desc_t& w = wanted.data;
  if (u.format_kind != dnnl_blocked || w.format_kind != dnnl_blocked || u.ndims != w.ndims) return {};
  if (u.format_desc.blocking.inner_nblks != 0 || u.offset0 != 0 || w.offset0 != 0) return {};
  const int nd = u.ndims;
  int64_t n = 1;
  for (int d = 0; d < nd; ++d) {
    if (u.dims[d] != w.dims[d]) return {};
    n *= u.dims[d];
  }
  // Offsets are int32; tables for filters beyond 2M elements are not worth their memory.
  if (n <= 0 || n > (int64_t(1) << 21) || wanted.get_size() / sizeof(float) > size_t(INT32_MAX)) return {};
  std::vector<int32_t> table(static_cast<size_t>(n), -1);
  const auto& wb = w.format_desc.blocking;
  std::vector<int64_t> pos(nd, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t src = 0;
    for (int d = 0; d < nd; ++d) src += pos[d] * u.format_desc.blocking.strides[d];
    std::vector<int64_t> q(pos);
    int64_t dst = 0, blk = 1;
    for (int i = wb.inner_nblks - 1; i >= 0; --i) {
      const int d = wb.inner_idxs[i];
      dst += (q[d] % wb.inner_blks[i]) * blk;
      q[d] /= wb.inner_blks[i];
      blk *= wb.inner_blks[i];
    }
    for (int d = 0; d < nd; ++d) dst += q[d] * wb.strides[d];
    if (src < 0 || src >= n || table[src] != -1) return {};  // not a dense user layout
    table[src] = static_cast<int32_t>(dst);
    for (int d = nd - 1; d >= 0; --d) {
      if (++pos[d] < u.dims[d]) break;
      pos[d] = 0;
    }
  }
  return table;
}

}  // namespace einnet

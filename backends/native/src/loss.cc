// Softmax cross-entropy and its gradient in one pass over the scores (models/losses.ts, through
// backends/native/fused.ts): the loss of a batch and d loss/d Z, which the backward pass then only
// scales by the incoming gradient, instead of a dozen tfjs kernels forward and as many backward.

#include <cmath>
#include <cstdint>

#include "loops.h"
#include "typed_args.h"

namespace einnet {
namespace {

// For rows [begin, end) of Z, Y [rows, classes]:
//   m = max Z[b,:];  e = exp(Z[b,:] − m);  s = Σ e;  loss_b = m + log s − Σ Y[b,:]·Z[b,:];
//   dZ[b,:] = (e/s − Y[b,:])/rows.
// Returns Σ loss_b (in double). A NaN or +∞ score gives NaN in its row's loss and gradient, as the
// composed ops do (∞ − ∞ in the shifted scores).
double XentRows(int64_t begin, int64_t end, int64_t classes, float invRows, const float* __restrict z, const float* __restrict y,
                float* __restrict dz) {
  double total = 0;
  for (int64_t b = begin; b < end; ++b) {
    const float* zr = z + b * classes;
    const float* yr = y + b * classes;
    float* dr = dz + b * classes;
    float m = zr[0];
    for (int64_t k = 1; k < classes; ++k) m = zr[k] > m ? zr[k] : m;  // a NaN anywhere makes s NaN below
    double s = 0, yz = 0;
    for (int64_t k = 0; k < classes; ++k) {
      const float e = std::exp(zr[k] - m);
      dr[k] = e;
      s += e;
      yz += static_cast<double>(yr[k]) * zr[k];
    }
    const float sf = static_cast<float>(s);
    for (int64_t k = 0; k < classes; ++k) dr[k] = (dr[k] / sf - yr[k]) * invRows;
    total += static_cast<double>(m) + std::log(s) - yz;
  }
  return total;
}

}  // namespace

// softmaxCrossEntropy(params [rows, classes], z, y, loss (1 float), dz): the mean loss and its
// gradient with respect to z.
void SoftmaxCrossEntropyLoop(const Napi::CallbackInfo& info) {
  const auto p = IntParams(info[0]);
  if (p.size() != 2 || p[0] <= 0 || p[1] <= 0) throw LoopArgError("softmax cross-entropy parameters must be [rows > 0, classes > 0]");
  const int64_t rows = p[0], classes = p[1];
  const float* z = Floats(info[1], rows * classes, "z");
  const float* y = Floats(info[2], rows * classes, "y");
  float* loss = Floats(info[3], 1, "loss");
  float* dz = Floats(info[4], rows * classes, "dz");
  const double total = XentRows(0, rows, classes, 1.f / static_cast<float>(rows), z, y, dz);
  loss[0] = static_cast<float>(total / static_cast<double>(rows));
}

}  // namespace einnet

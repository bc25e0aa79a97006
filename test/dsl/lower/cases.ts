/**
 * One small program per construct the lowering must handle (issue 3, item 2), with the shapes
 * of its bound inputs. Parameters are left unbound in `shapes` so that the checker infers them;
 * the tests then bind them too. Sizes are small so that finite differences of the reference stay
 * cheap, but large enough that every window, stride and padding edge case occurs.
 */
import type { Case } from './harness';

export const CASES: readonly Case[] = [
  // -- dense and contractions ---------------------------------------------------------------------
  { name: 'dense with bias', src: 'Y[b,j:4] = W[I,j]·X[b,I] + B[j]', shapes: { X: [3, 5] } },
  { name: 'matMul', src: 'C[i,k] = A[i,j]·B[j,k]', shapes: { A: [3, 4], B: [4, 5] } },
  { name: 'matMul, transposed operands', src: 'C[k,i] = A[j,i]·B[k,j]', shapes: { A: [4, 3], B: [5, 4] } },
  { name: 'batched matMul', src: 'C[b,i,k] = A[b,i,j]·B[b,j,k]', shapes: { A: [2, 3, 4], B: [2, 4, 5] } },
  { name: 'batched matMul, batch axis last', src: 'C[i,k,b] = A[i,j,b]·B[j,k,b]', shapes: { A: [3, 4, 2], B: [4, 5, 2] } },
  { name: 'chain of 3 factors', src: 'Y[a,d] = A[a,b]·B[b,c]·C[c,d]', shapes: { A: [2, 3], B: [3, 4], C: [4, 2] } },
  {
    name: 'general contraction, 3 factors with a shared kept index',
    src: 'Y[i,m] = A[i,j,k]·B[j,k,l]·C[l,m,i]',
    shapes: { A: [2, 3, 2], B: [3, 2, 3], C: [3, 2, 2] },
  },
  { name: 'outer product', src: 'Y[i,j] = A[i]·B[j]', shapes: { A: [3], B: [4] } },
  { name: 'explicit sum with Σ', src: 'Y[i] = Σ[j] A[i,j]·B[j]', shapes: { A: [3, 4], B: [4] } },
  { name: 'sum of a non-product body', src: 'Y[b] = sum[i] (A[b,i] + 1)', shapes: { A: [2, 4] } },
  { name: 'rank-0 result (dot product)', src: 'Y = sum[i] X[i]·X[i]', shapes: { X: [5] } },
  { name: 'rank-0 result (full contraction)', src: 'Y = A[i,j]·B[i,j]', shapes: { A: [3, 4], B: [3, 4] } },
  { name: 'diagonal A[i,i]', src: 'Y[i] = A[i,i]', shapes: { A: [4, 4] } },
  { name: 'trace (rank-0 diagonal sum)', src: 'T = sum[i] A[i,i]', shapes: { A: [4, 4] } },
  { name: 'diagonal inside a contraction', src: 'Y[b] = A[b,i,i]·V[i]', shapes: { A: [2, 3, 3], V: [3] } },

  // -- convolutions -------------------------------------------------------------------------------
  { name: 'conv1d', src: 'Y[b,x,j:3] = W[Δx:3,I,j]·X[b,x+Δx,I]', shapes: { X: [2, 8, 2] } },
  { name: 'conv1d stride 2', src: 'Y[b,x,j:3] = W[Δx:3,I,j]·X[b,2*x+Δx,I]', shapes: { X: [2, 9, 2] } },
  { name: 'conv1d dilation 2', src: 'Y[b,x,j:3] = W[Δx:3,I,j]·X[b,x+2*Δx,I]', shapes: { X: [2, 9, 2] } },
  { name: 'conv1d stride 2 + dilation 2', src: 'Y[b,x,j:3] = W[Δx:3,I,j]·X[b,2*x+2*Δx,I]', shapes: { X: [2, 11, 2] } },
  {
    name: 'conv2d + bias + relu (LeNet style)',
    src: 'L1[b,x,y,j:4] = relu(W[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I] + B[j])',
    shapes: { L0: [2, 6, 6, 3] },
  },
  { name: 'conv2d stride 2', src: 'Y[b,x,y,j:3] = W[Δx:3,Δy:3,I,j]·X[b,2*x+Δx,2*y+Δy,I]', shapes: { X: [2, 7, 7, 2] } },
  { name: 'conv2d stride (2,1)', src: 'Y[b,x,y,j:3] = W[Δx:2,Δy:3,I,j]·X[b,2*x+Δx,y+Δy,I]', shapes: { X: [1, 7, 6, 2] } },
  { name: 'conv2d dilation 2', src: 'Y[b,x,y,j:3] = W[Δx:3,Δy:3,I,j]·X[b,x+2*Δx,y+2*Δy,I]', shapes: { X: [1, 8, 8, 2] } },
  {
    name: 'conv2d stride 2 + dilation 2 (tfjs conv2d refuses this)',
    src: 'Y[b,x,y,j:3] = W[Δx:2,Δy:2,I,j]·X[b,2*x+2*Δx,2*y+2*Δy,I]',
    shapes: { X: [1, 9, 9, 2] },
  },
  {
    name: 'conv2d "same" padding via offsets and declared extents',
    src: 'Y[b,x:6,y:6,j:3] = W[Δx:3,Δy:3,I,j]·X[b,x+Δx-1,y+Δy-1,I]',
    shapes: { X: [2, 6, 6, 2] },
  },
  {
    name: 'conv2d asymmetric padding',
    src: 'Y[b,x:7,y:5,j:2] = W[Δx:3,Δy:2,I,j]·X[b,x+Δx-2,y+Δy,I]',
    shapes: { X: [1, 6, 5, 2] },
  },
  {
    name: 'conv2d stride 2 with "same" padding',
    src: 'Y[b,x:4,y:4,j:3] = W[Δx:3,Δy:3,I,j]·X[b,2*x+Δx-1,2*y+Δy-1,I]',
    shapes: { X: [1, 8, 8, 2] },
  },
  {
    name: 'conv2d stride 2 + dilation 2 + padding',
    src: 'Y[b,x:4,y:4,j:2] = W[Δx:3,Δy:3,I,j]·X[b,2*x+2*Δx-2,2*y+2*Δy-2,I]',
    shapes: { X: [1, 8, 8, 2] },
  },
  {
    name: 'conv3d',
    src: 'Y[b,x,y,z,j:2] = W[Δx:2,Δy:2,Δz:2,I,j]·X[b,x+Δx,y+Δy,z+Δz,I]',
    shapes: { X: [1, 4, 4, 3, 2] },
  },
  {
    name: 'conv3d stride 2 + dilation 2 + padding',
    src: 'Y[b,x:3,y:3,z:2,j:2] = W[Δx:2,Δy:2,Δz:2,I,j]·X[b,2*x+2*Δx-1,2*y+2*Δy-1,2*z+2*Δz-1,I]',
    shapes: { X: [1, 5, 5, 4, 2] },
  },
  { name: 'depthwise conv2d', src: 'Y[b,x,y,c] = W[Δx:3,Δy:3,c]·X[b,x+Δx,y+Δy,c]', shapes: { X: [2, 6, 6, 3] } },
  {
    name: 'depthwise conv2d with multiplier 2, stride 2, padding',
    src: 'Y[b,x:3,y:3,(c,m)] = W[Δx:3,Δy:3,c,m:2]·X[b,2*x+Δx-1,2*y+Δy-1,c]',
    shapes: { X: [1, 6, 6, 3] },
  },
  { name: 'pointwise conv (1×1)', src: 'Y[b,x,y,j:4] = W[I,j]·X[b,x,y,I] + B[j]', shapes: { X: [2, 3, 3, 5] } },
  {
    name: 'grouped conv via composite (g,i)',
    src: 'Y[b,x,y,(g,j)] = W[Δx:3,Δy:3,g,i,j]·X[b,x+Δx,y+Δy,(g,i)]',
    shapes: { X: [1, 5, 5, 6], W: [3, 3, 2, 3, 2] },
  },
  {
    name: 'grouped conv with padding and stride',
    src: 'Y[b,x:3,y:3,(g,j)] = W[Δx:3,Δy:3,g,i,j]·X[b,2*x+Δx-1,2*y+Δy-1,(g,i)]',
    shapes: { X: [1, 6, 6, 4], W: [3, 3, 2, 2, 3] },
  },
  { name: 'transposed conv 1-D (affine LHS)', src: 'T[2*x+Δx] = W[Δx]·L[x]', shapes: { W: [3], L: [4] } },
  {
    name: 'transposed conv 2-D stride 2 (affine LHS, overlapping writes add)',
    src: 'T[b,2*x+Δx,2*y+Δy,j] = W[Δx,Δy,I,j]·L[b,x,y,I]',
    shapes: { W: [3, 3, 2, 3], L: [2, 3, 3, 2] },
  },
  {
    name: 'transposed conv 2-D, kernel = stride (no overlap)',
    src: 'T[b,2*x+Δx,2*y+Δy,j] = W[Δx,Δy,I,j]·L[b,x,y,I]',
    shapes: { W: [2, 2, 3, 2], L: [1, 3, 3, 3] },
  },

  // -- pooling ------------------------------------------------------------------------------------
  { name: 'max pool 2×2/2', src: 'Y[b,x,y,c] = max[Δx:2,Δy:2] X[b,2*x+Δx,2*y+Δy,c]', shapes: { X: [2, 6, 6, 2] } },
  { name: 'max pool 3×3/2 (overlapping windows)', src: 'Y[b,x,y,c] = max[Δx:3,Δy:3] X[b,2*x+Δx,2*y+Δy,c]', shapes: { X: [1, 7, 7, 2] } },
  {
    name: 'max pool 3×3/1 with padding (out-of-range terms ignored)',
    src: 'Y[b,x:5,y:5,c] = max[Δx:3,Δy:3] X[b,x+Δx-1,y+Δy-1,c]',
    shapes: { X: [1, 5, 5, 2] },
  },
  {
    name: 'max pool 3×3/2 with padding',
    src: 'Y[b,x:4,y:4,c] = max[Δx:3,Δy:3] X[b,2*x+Δx-1,2*y+Δy-1,c]',
    shapes: { X: [1, 8, 8, 2] },
  },
  {
    name: 'min pool with padding',
    src: 'Y[b,x:5,y:5,c] = min[Δx:3,Δy:3] X[b,x+Δx-1,y+Δy-1,c]',
    shapes: { X: [1, 5, 5, 2] },
  },
  { name: 'mean pool 2×2/2', src: 'Y[b,x,y,c] = mean[Δx:2,Δy:2] X[b,2*x+Δx,2*y+Δy,c]', shapes: { X: [2, 6, 6, 2] } },
  {
    name: 'mean pool with padding (padding counts as zeros)',
    src: 'Y[b,x:4,y:4,c] = mean[Δx:3,Δy:3] X[b,2*x+Δx-1,2*y+Δy-1,c]',
    shapes: { X: [1, 8, 8, 2] },
  },
  {
    name: 'sum pool with padding',
    src: 'Y[b,x:5,y:5,c] = sum[Δx:3,Δy:3] X[b,x+Δx-1,y+Δy-1,c]',
    shapes: { X: [1, 5, 5, 2] },
  },
  {
    name: 'L2 pool with padding',
    src: 'Y[b,x:3,y:3,c] = sqrt(sum[Δx:3,Δy:3] square(X[b,2*x+Δx-1,2*y+Δy-1,c]))',
    shapes: { X: [1, 6, 6, 2] },
  },
  {
    name: '3-D max pool 2×2×2/2',
    src: 'Y[b,x,y,z,c] = max[Δx:2,Δy:2,Δz:2] X[b,2*x+Δx,2*y+Δy,2*z+Δz,c]',
    shapes: { X: [1, 4, 4, 4, 2] },
  },
  {
    name: '3-D max pool 3×3×3/1 with padding',
    src: 'Y[b,x:3,y:3,z:3,c] = max[Δx:3,Δy:3,Δz:3] X[b,x+Δx-1,y+Δy-1,z+Δz-1,c]',
    shapes: { X: [1, 3, 3, 3, 2] },
  },
  {
    name: '3-D mean pool 3×3×3/2 with padding',
    src: 'Y[b,x:2,y:2,z:2,c] = mean[Δx:3,Δy:3,Δz:3] X[b,2*x+Δx-1,2*y+Δy-1,2*z+Δz-1,c]',
    shapes: { X: [1, 4, 4, 4, 2] },
  },
  { name: 'max pool 1-D with padding', src: 'Y[x:6] = max[Δx:3] X[x+Δx-1]', shapes: { X: [6] } },
  {
    name: 'stacked max pools (3×3/1 then 2×2/2)',
    src: 'Y[b,x,y,c] = max[Δx:3,Δy:3] X[b,x+Δx,y+Δy,c]\nZ[b,x,y,c] = max[Δx:2,Δy:2] Y[b,2*x+Δx,2*y+Δy,c]',
    shapes: { X: [1, 6, 6, 2] },
  },
  { name: 'global max over channels', src: 'M[b] = max[j] X[b,j]', shapes: { X: [3, 5] } },
  { name: 'global mean pool', src: 'G[b,c] = mean[x,y] X[b,x,y,c]', shapes: { X: [2, 3, 4, 2] } },
  {
    name: 'max of a difference with padding',
    src: 'Y[x,y] = max[k:3] (X[x,y] - X[x+k-1, y])',
    shapes: { X: [4, 4] },
  },

  // -- elementwise ---------------------------------------------------------------------------------
  {
    name: 'unary activations',
    src: 'Y[i] = relu(X[i]) + sigmoid(X[i]) + tanh(X[i]) + exp(X[i]) + abs(X[i]) + square(X[i]) + softplus(X[i]) + σ(X[i])',
    shapes: { X: [7] },
  },
  { name: 'log and sqrt', src: 'Y[i] = log(P[i]) + sqrt(P[i])', shapes: { P: [6] }, positive: ['P'] },
  {
    name: 'arithmetic + − · / ^ and unary minus',
    src: 'Y[i] = (A[i] - B[i]) * A[i] / P[i] + -A[i] + P[i]^2.5 - 3',
    shapes: { A: [5], B: [5], P: [5] },
    positive: ['P'],
  },
  { name: 'binary max and min', src: 'Y[i,j] = max(A[i,j], B[j]) + min(A[i,j], 0)', shapes: { A: [3, 4], B: [4] } },
  { name: 'bias add', src: 'Y[b,x,j] = X[b,x,j] + B[j]', shapes: { X: [2, 3, 4] } },
  { name: 'broadcast product (scale)', src: 'Y[b,j] = X[b,j]·G[j] + Z[b]', shapes: { X: [3, 4], G: [4], Z: [3] } },
  { name: 'plain copy (Y = X)', src: 'Y[i,j] = X[i,j]', shapes: { X: [3, 2] } },
  { name: 'transpose', src: 'Y[j,k,i] = X[i,j,k]', shapes: { X: [2, 3, 4] } },
  { name: 'shifted read outside any reduction (reads 0)', src: 'Y[x:6] = X[x-1] + X[x+1]', shapes: { X: [6] } },
  { name: 'constant statement and const', src: 'const s = 2\nY[i] = s·X[i] + 1', shapes: { X: [4] } },
  {
    name: 'softmax over three statements (intermediates returned)',
    src: 'E[b,j] = exp(X[b,j])\nS[b] = sum[j] E[b,j]\nP[b,j] = E[b,j] / S[b]',
    shapes: { X: [2, 5] },
  },

  // -- layout: concatenation, composites, upsampling, boundaries --------------------------------------
  { name: 'concatenation (2 parts)', src: 'C[x,J1+J2] = A[x,J1] ; B[x,J2]', shapes: { A: [3, 2], B: [3, 4] } },
  {
    name: 'channel concatenation of 3 parts, 4-D',
    src: 'C[b,x,y,J1+J2+J3] = A[b,x,y,J1] ; relu(B[b,x,y,J2]) ; A[b,x,y,J3]·2',
    shapes: { A: [1, 2, 3, 2], B: [1, 2, 3, 3] },
  },
  { name: 'concatenation on the first axis', src: 'C[I1+I2,j] = A[I1,j] ; B[I2,j]', shapes: { A: [2, 3], B: [1, 3] } },
  { name: 'channel shuffle (g,i) → (i,g)', src: 'Y[b,x,y,(i,g)] = X[b,x,y,(g:2,i)]', shapes: { X: [1, 2, 2, 6] } },
  { name: 'composite with a declared factor', src: 'Y[b,g,i] = X[b,(g:3,i)]', shapes: { X: [2, 6] } },
  { name: 'nearest upsampling x/2', src: 'U[b,x:8,y:8,c] = X[b,x/2,y/2,c]', shapes: { X: [1, 4, 4, 2] } },
  { name: 'nearest upsampling x/3 (odd size)', src: 'U[x:7] = X[x/3]', shapes: { X: [3] } },
  { name: 'clamp / wrap / reflect', src: 'Y[x:7] = X[clamp(x-1)] + 10*X[wrap(x-1)] + 100*X[reflect(x-1)]', shapes: { X: [5] } },
  {
    name: 'conv with reflect padding',
    src: 'Y[x:5,y:5] = F[Δx:3,Δy:3]·X[reflect(x+Δx-1), reflect(y+Δy-1)]',
    shapes: { X: [5, 5] },
  },
  {
    name: 'conv with wrap (circular) padding',
    src: 'Y[x:5] = F[Δx:3]·X[wrap(x+Δx-1)]',
    shapes: { X: [5] },
  },
  {
    name: 'max pool with clamp (replicate) padding',
    src: 'Y[x:5] = max[Δx:3] X[clamp(x+Δx-1)]',
    shapes: { X: [5] },
  },

  // -- relu(a + b): one addRelu step when both operands have the output's shape ---------------------
  { name: 'residual output relu(A + B)', src: 'Y[b,x,j] = relu(A[b,x,j] + B[b,x,j])', shapes: { A: [2, 3, 4], B: [2, 3, 4] } },
  { name: 'relu(A + A): one tensor as both operands', src: 'Y[i,j] = relu(A[i,j] + A[i,j])', shapes: { A: [3, 5] } },
  { name: 'relu of a broadcasting sum (not fused)', src: 'Y[b,j] = relu(A[b,j] + B[j])', shapes: { A: [3, 4], B: [4] } },
  { name: 'relu(A + Bᵀ): a transposed operand', src: 'Y[i,j] = relu(A[i,j] + B[j,i])', shapes: { A: [3, 4], B: [4, 3] } },

  // -- batch normalization (the batch-norm route: statistics and normalization steps) -----------------
  {
    name: 'batch norm as Ioffe & Szegedy define it, with γ, β and relu',
    src: [
      'μ[j] = mean[b,x,y] X[b,x,y,j]',
      'σ[j] = sqrt(mean[b,x,y] square(X[b,x,y,j] - μ[j]) + 0.00001)',
      'Y[b,x,y,j] = relu((X[b,x,y,j] - μ[j]) / σ[j] · G[j] + B[j])',
    ].join('\n'),
    shapes: { X: [3, 2, 3, 4] },
  },
  {
    name: 'batch norm of dense features, γ first, β first, no activation',
    src: ['m[j] = mean[b] X[b,j]', 's[j] = sqrt(mean[b] (X[b,j] - m[j])^2 + 0.001)', 'Y[b,j] = B[j] + G[j] · ((X[b,j] - m[j]) / s[j])'].join('\n'),
    shapes: { X: [5, 3] },
  },
  {
    name: 'batch norm with the channel axis first (not the leading-rows layout), tanh, no γ, β',
    src: ['μ[j] = mean[b,x] X[j,b,x]', 'σ[j] = sqrt(mean[b,x] square(X[j,b,x] - μ[j]) + 0.01)', 'Y[j,b,x] = tanh((X[j,b,x] - μ[j]) / σ[j])'].join('\n'),
    shapes: { X: [3, 4, 2] },
  },
  {
    name: 'batch norm whose μ and σ are also read by a later statement',
    src: [
      'μ[j] = mean[b,x] X[b,x,j]',
      'σ[j] = sqrt(mean[b,x] square(X[b,x,j] - μ[j]) + 0.00001)',
      'Y[b,x,j] = (X[b,x,j] - μ[j]) / σ[j] · G[j] + B[j]',
      'Z[b,x,j] = Y[b,x,j] · σ[j] + μ[j]·μ[j]',
    ].join('\n'),
    shapes: { X: [2, 3, 3] },
  },

  // -- whole networks (several statements, every intermediate returned) -------------------------------
  {
    name: 'conv + pool + dense',
    src: [
      'L1[b,x,y,j:4] = relu(W1[Δx:3,Δy:3,I,j]·L0[b,x+Δx,y+Δy,I] + B1[j])',
      'L2[b,x,y,j] = max[Δx:2,Δy:2] L1[b,2*x+Δx,2*y+Δy,j]',
      'L3[b,k:3] = W2[x,y,j,k]·L2[b,x,y,j] + B2[k]',
    ].join('\n'),
    shapes: { L0: [2, 6, 6, 2] },
  },
  {
    name: 'residual block with same padding',
    src: ['H[b,x:5,y:5,j:3] = relu(W1[Δx:3,Δy:3,i,j]·X[b,x+Δx-1,y+Δy-1,i])', 'Y[b,x,y,j] = X[b,x,y,j] + W2[Δx:3,Δy:3,i,j]·H[b,x+Δx-1,y+Δy-1,i]'].join('\n'),
    shapes: { X: [1, 5, 5, 3] },
  },

  // -- normalization by given μ and σ (batch norm in evaluation: one step, differentiable in all) ------
  {
    name: 'batch norm in evaluation: given μ, σ, with γ, β and relu',
    src: 'Y[b,x,y,j] = relu((X[b,x,y,j] - M[j]) / S[j] · G[j] + B[j])',
    shapes: { X: [3, 2, 3, 4], M: [4], S: [4] },
    positive: ['S'],
  },
  {
    name: 'given μ, σ over two kept axes, γ first, no β, tanh',
    src: 'Y[b,i,j] = tanh(G[i,j] · ((X[b,i,j] - M[i,j]) / S[i,j]))',
    shapes: { X: [4, 2, 3], M: [2, 3], S: [2, 3] },
    positive: ['S'],
  },
  {
    name: 'given μ, σ with the channel axis first, no γ, β',
    src: 'Y[j,b] = (X[j,b] - M[j]) / S[j]',
    shapes: { X: [3, 5], M: [3], S: [3] },
    positive: ['S'],
  },
];

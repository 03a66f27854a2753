//===- ids_kernel.cu - The kernel of bench/gpu/capture_check.py -----------===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
// y[i] = ids[i] for i < n: the memref descriptors as the runtime passes them.
extern "C" __global__ void fwd(int *ids_alloc, int *ids, long ids_off,
                               long ids_n, long ids_s, float *y_alloc,
                               float *y, long y_off, long y_n, long y_s) {
  long i = blockIdx.x * (long)blockDim.x + threadIdx.x;
  if (i < ids_n)
    y[i] = (float)ids[i];
}

/* Calls the entry point `attunec` compiled from examples/dense.mlir on
 * deterministic inputs, and writes the inputs and both results as .npy files
 * into the directory given as argv[1], so a test can compare them with
 * attune-run's results for the same inputs. Built with `-include dense.h`. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 2, H = 8, S = 33, D = 64 };

static void writeNpy(const char *dir, const char *name, const float *data,
                     const long *shape, int rank) {
  char path[4096], header[256];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int n = snprintf(header, sizeof header,
                   "{'descr': '<f4', 'fortran_order': False, 'shape': (");
  long count = 1;
  for (int d = 0; d < rank; ++d) {
    n += snprintf(header + n, sizeof header - n, "%ld, ", shape[d]);
    count *= shape[d];
  }
  n += snprintf(header + n, sizeof header - n, "), }");
  while ((10 + n + 1) % 64)
    header[n++] = ' ';
  header[n++] = '\n';
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(1);
  }
  unsigned char preamble[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                (unsigned char)(n & 0xff),
                                (unsigned char)(n >> 8)};
  fwrite(preamble, 1, 10, f);
  fwrite(header, 1, n, f);
  fwrite(data, sizeof(float), count, f);
  fclose(f);
}

static attune_memref4_f32 wrap4(float *data) {
  attune_memref4_f32 m = {data, data, 0, {B, H, S, D},
                          {H * S * D, S * D, D, 1}};
  return m;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
    return 1;
  }
  size_t n = (size_t)B * H * S * D;
  float *q = malloc(n * 4), *k = malloc(n * 4), *v = malloc(n * 4);
  float *o = malloc(n * 4), *lse = malloc((size_t)B * H * S * 4);
  for (size_t i = 0; i < n; ++i) {
    q[i] = sinf(0.37f * i);
    k[i] = cosf(0.11f * i + 1.0f);
    v[i] = sinf(0.05f * i - 2.0f);
  }
  attune_memref4_f32 mq = wrap4(q), mk = wrap4(k), mv = wrap4(v), mo = wrap4(o);
  attune_memref3_f32 ml = {lse, lse, 0, {B, H, S}, {H * S, S, 1}};
  _mlir_ciface_dense(&mq, &mk, &mv, &mo, &ml);

  long shape4[4] = {B, H, S, D}, shape3[3] = {B, H, S};
  writeNpy(argv[1], "q.npy", q, shape4, 4);
  writeNpy(argv[1], "k.npy", k, shape4, 4);
  writeNpy(argv[1], "v.npy", v, shape4, 4);
  writeNpy(argv[1], "o.npy", o, shape4, 4);
  writeNpy(argv[1], "lse.npy", lse, shape3, 3);
  return 0;
}

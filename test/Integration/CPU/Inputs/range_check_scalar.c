/* Exercises attune_check_prefix_lm (examples/prefix_lm.mlir: the prefix
 * length, arg3, is a scalar index in [0, 64)) at and around its bounds, and
 * that the header declares scalar parameters as C scalars. Built with
 * `-include prefix_lm.h`. */

#include <stdio.h>

int main(void) {
  const int64_t values[] = {0, 63, 64, -1, 1000};
  for (int i = 0; i < 5; ++i)
    printf("%lld: %d\n", (long long)values[i],
           attune_check_prefix_lm(0, 0, 0, values[i]));
  return 0;
}

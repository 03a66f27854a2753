/* Exercises attune_check_document_mask, the checker of the `attn.range`
 * contract that attunec writes into the header of examples/document_mask.mlir
 * (q_doc = arg3, kv_doc = arg4, both [B, S] i32 in [0, 4)): prints one line
 * per case, which the test compares. The checker reads only the integer
 * arguments, so Q, K and V are null here. Built with `-include
 * document_mask.h`. */

#include <stdio.h>
#include <string.h>

int main(void) {
  int qData[16], kvData[10];
  for (int i = 0; i < 16; ++i)
    qData[i] = i % 4;
  for (int i = 0; i < 10; ++i)
    kvData[i] = 3 - i % 4;
  /* q_doc as a column-major view with an offset: element (b, s) is at
   * 1 + b + 2 s, so the view holds qData[1..10]. */
  attune_memref2_i32 q = {qData, qData, 1, {2, 5}, {1, 2}};
  attune_memref2_i32 kv = {kvData, kvData, 0, {2, 5}, {5, 1}};
  printf("in range: %d\n", attune_check_document_mask(0, 0, 0, &q, &kv));
  qData[0] = 99; /* outside the view */
  qData[11] = -7;
  printf("outside the view: %d\n",
         attune_check_document_mask(0, 0, 0, &q, &kv));
  qData[10] = 4; /* (b, s) = (1, 4), the view's last element */
  printf("q_doc at hi: %d\n", attune_check_document_mask(0, 0, 0, &q, &kv));
  qData[10] = 0;
  kvData[7] = -1;
  printf("kv_doc negative: %d\n",
         attune_check_document_mask(0, 0, 0, &q, &kv));
  qData[1] = 5;
  printf("both: %d\n", attune_check_document_mask(0, 0, 0, &q, &kv));
  attune_memref2_i32 empty = {qData, qData, 1, {2, 0}, {1, 2}};
  printf("empty: %d\n", attune_check_document_mask(0, 0, 0, &empty, &empty));
  return 0;
}

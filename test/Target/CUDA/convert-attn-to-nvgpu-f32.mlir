// RUN: attune-opt %s --attn-tile="tile-q=64 tile-k=32" --attn-sparsify --convert-attn-to-nvvm | FileCheck %s

/// f32 inputs: three kernels first write each of Q, K and V as three bf16
/// planes (hi, mid, lo: x = their sum to f32's 24 bits) into workspaces; the
/// attention kernels read the planes, compute every product as the six
/// plane products with p + q < 3 (the first planes' product into its own
/// accumulator, fresh per k-tile for P V), and store O in f32.

// CHECK-LABEL: gpu.func @alibi_planes_q
// CHECK-SAME:    (%{{.*}}: memref<?x8x?x64xf32>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-SAME:    attn.kernel = #attn.kernel<role = planes, block = 128, operand = "q", planes = 3, rows = 16>
// CHECK:         scf.for
// CHECK-COUNT-3:   arith.truncf %{{.*}} : f32 to bf16
// CHECK-LABEL: gpu.func @alibi_planes_k
// CHECK-LABEL: gpu.func @alibi_planes_v

/// The forward kernel: the function's arguments and O, then the nine planes.
// CHECK-LABEL: gpu.func @alibi_fwd
// CHECK-SAME:    (%{{.*}}: memref<?x8x?x64xf32>, %{{.*}}: memref<?x8x?x64xf32>, %{{.*}}: memref<?x8x?x64xf32>, %{{.*}}: memref<8xf32>, %{{.*}}: memref<?x8x?x64xf32>
// CHECK-SAME:    %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>, %{{.*}}: memref<?x8x?x64xbf16>) kernel
// CHECK-SAME:    shared_bytes = 73728
// CHECK:       scf.for
/// Q K^T for one fragment: the five small products, then the large one
/// into an accumulator of its own.
// CHECK-COUNT-5: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// CHECK:         nvvm.mma.sync A[{{.*}}] C[%cst{{.*}}, %cst{{.*}}, %cst{{.*}}, %cst{{.*}}]
/// ALiBi's j - i in 32 bits (arith-int-range-narrowing's patterns, from the
/// op's index ranges).
// CHECK:         arith.subi %{{.*}}, %{{.*}} : i32
// CHECK:       llvm.store %{{.*}}, %{{.*}} {alignment = 8 : i64} : vector<2xf32>, !llvm.ptr<1>

func.func @alibi(%q: tensor<?x8x?x64xf32>, %k: tensor<?x8x?x64xf32>,
                 %v: tensor<?x8x?x64xf32>, %slopes: tensor<8xf32>)
    -> tensor<?x8x?x64xf32> {
  %o = attn.attention
      ins(%q, %k, %v : tensor<?x8x?x64xf32>, tensor<?x8x?x64xf32>,
                       tensor<?x8x?x64xf32>)
      captures(%slopes : tensor<8xf32>)
      -> tensor<?x8x?x64xf32>
    score(%s, %b, %h, %i, %j, %m) {
      %slope = tensor.extract %m[%h] : tensor<8xf32>
      %ii = arith.index_cast %i : index to i64
      %jj = arith.index_cast %j : index to i64
      %rel = arith.subi %jj, %ii : i64
      %relf = arith.sitofp %rel : i64 to f32
      %bias = arith.mulf %slope, %relf : f32
      %r = arith.addf %s, %bias : f32
      attn.yield %r : f32
    }
  return %o : tensor<?x8x?x64xf32>
}

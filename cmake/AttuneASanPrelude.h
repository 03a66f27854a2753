//===- AttuneASanPrelude.h - ASan against uninstrumented LLVM ---*- C++ -*-===//
//
// Part of the Attune project.
//
//===----------------------------------------------------------------------===//
//
// Force-included (-include) into every C++ source of an ATTUNE_SANITIZE
// build with AddressSanitizer. The installed LLVM/MLIR libraries are not
// instrumented, but llvm::BumpPtrAllocator is header code: the copies
// compiled into Attune's objects poison each new slab and unpoison only what
// they allocate, while the library's own copy, allocating later from the
// same slab (MLIR's uniquers, the parser), unpoisons nothing. The result is
// false "use-after-poison" reports inside libMLIR. Making the header's
// poisoning calls no-ops here gives both copies the library's behaviour;
// everything else ASan checks is unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef ATTUNE_CMAKE_ATTUNEASANPRELUDE_H
#define ATTUNE_CMAKE_ATTUNEASANPRELUDE_H

#include <sanitizer/asan_interface.h>

#define __asan_poison_memory_region(addr, size) ((void)(addr), (void)(size))
#define __asan_unpoison_memory_region(addr, size) ((void)(addr), (void)(size))

#endif // ATTUNE_CMAKE_ATTUNEASANPRELUDE_H

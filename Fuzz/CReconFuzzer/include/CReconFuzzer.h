#ifndef C_RECON_FUZZER_H
#define C_RECON_FUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's own entry (compiler-rt FuzzerDriver.cpp): runs the fuzzing loop with `callback` as
/// LLVMFuzzerTestOneInput. Swift executables bring their own `main`, so this is how they start it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/// A file in memory (memfd_create), or -1: the ZIP target rewrites it for every input and opens
/// it by its /proc/self/fd path, so the fuzz loop never touches the disk.
int recon_fuzz_memfd(void);

#endif

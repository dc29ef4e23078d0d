#define _GNU_SOURCE
#include <sys/mman.h>

#include "CReconFuzzer.h"

int recon_fuzz_memfd(void) { return memfd_create("recon-fuzz", MFD_CLOEXEC); }

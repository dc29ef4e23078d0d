#ifndef RECON_SPAWN_H
#define RECON_SPAWN_H
#include <spawn.h>

// glibc declares these only under _GNU_SOURCE, which Swift's Glibc module does not set.
int recon_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);
short recon_spawn_setsid_flag(void);
#endif

#define _GNU_SOURCE
#include <spawn.h>
#include "recon_spawn.h"

int recon_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

short recon_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

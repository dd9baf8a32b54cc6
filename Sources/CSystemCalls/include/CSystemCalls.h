// Linux and GNU calls that Swift's Glibc module does not expose.
#ifndef FAASTEN_CSYSTEMCALLS_H
#define FAASTEN_CSYSTEMCALLS_H

#include <spawn.h>

/// POSIX_SPAWN_SETSID, a glibc extension.
int faasten_spawn_setsid_flag(void);
/// posix_spawn_file_actions_addclosefrom_np: close every descriptor >= from in the child.
int faasten_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);
/// posix_spawn_file_actions_addchdir_np: change directory in the child.
int faasten_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);
/// pipe2(fds, O_CLOEXEC).
int faasten_pipe_cloexec(int fds[2]);
/// Runs the calling process (every thread, and the children it starts later) on one CPU.
int faasten_pin_process_to_cpu(int cpu);

#endif

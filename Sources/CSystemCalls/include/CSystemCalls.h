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
/// Runs the calling process (every thread, and the children it starts later) on `cpus`.
int faasten_pin_process_to_cpus(const int *cpus, int count);

/// The CPUs the calling thread may run on: writes up to `max` CPU numbers, returns how
/// many (or -1).
int faasten_thread_cpus(int *cpus, int max);
/// Lets the calling thread (and the children it starts afterwards) run only on `cpus`.
int faasten_set_thread_cpus(const int *cpus, int count);

#endif
